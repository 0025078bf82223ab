"""The customer pays an open invoice by card from the order's page.

`pay_invoice_by_card` is an entry point (durable). The form's attempt key is
claimed first (`oms.lib.submissions`), so a double submit or a retried
request pays once: the twin waits on the key's unique index and then gets
`AlreadySubmitted` naming the first one's payment. The same key makes the
gateway's idempotency keys, so a crash after the gateway answered replays
its answer instead of charging again. A declined card records nothing on
the invoice; the gateway's decline stays as a declined payment, which caps
the tries (the page is public: it must not serve to test stolen cards).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.locks import lock_order_and_invoice
from billing.models import InvoicePayment, Payment, PaymentMethod, PaymentStatus, SettlementMethod
from billing.providers import ProviderResult, provider_for_method
from billing.services.approval import card_retry_max_attempts
from billing.services.collection import record_received_money, refuse_unpayable
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.submissions import claim_submission, record_submission_result

CARD_PAYMENT_SUBMISSION = "billing.customer_card_payment"
# Part of every idempotency key of this flow: the attempt cap counts them.
_KEY_MARK = ":pay-invoice:"


class InvoiceNotFound(ApplicationError):
    status = 404


@dataclass(frozen=True)
class CardPayment:
    """What the customer's card did: `record` is the money on the invoice,
    None when the gateway did not accept the card (`result.message` says why)."""

    result: ProviderResult
    record: InvoicePayment | None


def pay_invoice_by_card(*, order_id: int, invoice_id: int, card_number: str,
                        attempt_key: str, actor: Actor = None) -> CardPayment:
    """Charge what the invoice still owes to the card and record it.

    The invoice must belong to `order_id` (the page's token), else
    InvoiceNotFound, the same answer as an unknown invoice."""
    with transaction.atomic(durable=True):
        # First, before any lock: a twin submit waits here for this one's commit.
        submission = claim_submission(key=attempt_key, purpose=CARD_PAYMENT_SUBMISSION,
                                      actor=actor)
        try:
            order, invoice = lock_order_and_invoice(invoice_id)
        except ApplicationError:
            raise InvoiceNotFound(_("Invoice not found."), code="not_found") from None
        if invoice.order_id != order_id:
            raise InvoiceNotFound(_("Invoice not found."), code="not_found")
        refuse_unpayable(invoice)
        declined = Payment.objects.filter(order_id=order.pk, status=PaymentStatus.DECLINED,
                                          idempotency_key__contains=_KEY_MARK).count()
        if declined >= card_retry_max_attempts():
            raise NotAllowed(_("Too many attempts with this link. Please contact us to pay."),
                             code="too_many_attempts")
        key = f"invoice:{invoice.pk}{_KEY_MARK}{attempt_key}"
        provider = provider_for_method(PaymentMethod.CARD)
        amount = invoice.outstanding
        result = provider.authorise(order_id=order.pk, method=PaymentMethod.CARD, amount=amount,
                                    currency=invoice.currency, idempotency_key=key,
                                    card_number=card_number, actor=actor)
        if result.status == PaymentStatus.REVIEW:
            # The gateway's review would leave the invoice waiting on a person:
            # released at once, the customer may pay with another card.
            provider.void(reference=result.reference, idempotency_key=f"{key}:void",
                          actor=actor)
        if result.status != PaymentStatus.AUTHORISED:
            return CardPayment(result=result, record=None)
        captured = provider.capture(reference=result.reference, idempotency_key=f"{key}:capture",
                                    actor=actor)
        record = record_received_money(
            order, invoice, amount=captured.amount, method=SettlementMethod.CARD,
            received_on=timezone.localdate(), reference=result.reference,
            payment=Payment.objects.get(pk=result.payment_id), actor=actor)
        record_submission_result(submission, record.pk)
    return CardPayment(result=captured, record=record)
