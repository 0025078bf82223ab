"""Collection: payments recorded against invoices, and overdue reminders.

`record_invoice_payment` is Accounting's entry point (durable): it locks the
order row, then the invoice, applies the money (the part beyond what is due
becomes customer credit), tells the customer, and moves the order to `paid`
once its invoices are settled.

`send_overdue_reminders` is the daily beat task's service: each overdue
invoice gets one reminder per level it has reached (settings
BILLING_REMINDER_LEVELS, days overdue), never twice: a `Reminder` row unique
per (invoice, level) and the outbox dedup key both refuse a second one, so
the task may run late, twice or concurrently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.locks import lock_invoice, lock_order_and_invoice
from billing.models import (
    UNSETTLED_STATUSES,
    CustomerCredit,
    Invoice,
    InvoicePayment,
    Payment,
    Reminder,
    SettlementMethod,
)
from billing.services.invoicing import EMAIL_HANDLER, _mark_paid_if_settled, apply_payment
from customers.models import Customer
from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.money import quantize_money, to_decimal
from oms.lib.submissions import claim_submission, record_submission_result
from orders import events as order_events
from orders.models import Order

logger = logging.getLogger(__name__)

MAX_REFERENCE = 100
# What a one-time form key was used for (`oms.lib.submissions`).
PAYMENT_SUBMISSION = "billing.record_payment"
CREDIT_SUBMISSION = "billing.apply_credit"
# Customer credit is applied with `apply_customer_credit`, not typed in.
RECORDABLE_METHODS = [m for m in SettlementMethod.values if m != SettlementMethod.CUSTOMER_CREDIT]


def reminder_levels() -> list[int]:
    return sorted(set(getattr(settings, "BILLING_REMINDER_LEVELS", [1, 15, 30])))


@dataclass(frozen=True)
class InvoicePaymentInput:
    """Money received against an invoice, checked once when it is built (by
    the form, or any other caller): ApplicationError with field errors
    otherwise. The amount comes out quantized and the reference stripped."""

    amount: Decimal
    method: str
    received_on: date
    reference: str = ""

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        try:
            amount = quantize_money(to_decimal(self.amount))
            if amount <= 0:
                errors["amount"] = [_("Enter an amount greater than zero.")]
        except (TypeError, ValueError):
            amount = None
            errors["amount"] = [_("Enter an amount.")]
        if self.method not in RECORDABLE_METHODS:
            errors["method"] = [_("Choose a payment method.")]
        if not isinstance(self.received_on, date):
            errors["received_on"] = [_("Enter the date the money arrived.")]
        elif self.received_on > timezone.localdate():
            errors["received_on"] = [_("The date cannot be in the future.")]
        reference = (self.reference or "").strip()
        if len(reference) > MAX_REFERENCE:
            errors["reference"] = [_("At most %(n)d characters.") % {"n": MAX_REFERENCE}]
        if errors:
            raise ApplicationError(_("Please correct the payment."), field_errors=errors)
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "reference", reference)


def record_invoice_payment(*, invoice_id: int, data: InvoicePaymentInput, actor: Actor,
                           submission_key: str | None = None) -> InvoicePayment:
    """Record money received against an invoice (partial, full or over).

    `submission_key`: the form's one-time key; a second submit with it raises
    `AlreadySubmitted` and records nothing."""
    value, method, received_on, reference = (data.amount, data.method, data.received_on,
                                             data.reference)
    with transaction.atomic(durable=True):
        # First, before any lock: a twin submit waits here for this one's commit.
        submission = claim_submission(key=submission_key, purpose=PAYMENT_SUBMISSION,
                                      actor=actor)
        order, invoice = lock_order_and_invoice(invoice_id)
        refuse_unpayable(invoice)
        record = record_received_money(order, invoice, amount=value, method=method,
                                       received_on=received_on, reference=reference,
                                       actor=actor)
        record_submission_result(submission, record.pk)
    return record


def refuse_unpayable(invoice: Invoice) -> None:
    """NotAllowed unless the invoice is issued and still owes money."""
    if invoice.number is None:
        raise NotAllowed(_("The invoice is not issued."), code="not_issued")
    if invoice.is_settled:
        raise NotAllowed(_("Invoice %(number)s is already settled.")
                         % {"number": invoice.number}, code="settled")


def record_received_money(order: Order, invoice: Invoice, *, amount: Decimal, method: str,
                          received_on: date, reference: str = "",
                          payment: Payment | None = None, actor: Actor) -> InvoicePayment:
    """Money that reached the locked, unsettled invoice: applied (the rest as
    customer credit), on the order's timeline, the customer's "payment
    received" e-mail queued, the order `paid` once its invoices are settled.
    Runs in the caller's transaction, after its order and invoice locks."""
    record = apply_payment(invoice, amount=amount, method=method, received_on=received_on,
                           reference=reference, payment=payment, actor=actor)
    assert invoice.number is not None  # refuse_unpayable: only issued invoices take money
    # On the order's timeline, so customer service sees the money arrive.
    order_events.payment_recorded(
        order, actor=actor, invoice_number=invoice.number, amount=amount,
        currency=invoice.currency, method=method,
        method_label=SettlementMethod(method).label, reference=reference)
    outbox.enqueue(EMAIL_HANDLER, {
        "order_id": order.pk, "kind": "payment_received",
        "extra": {"invoice_number": invoice.number, "amount": str(record.amount),
                  "applied": str(record.applied),
                  "credit": str(record.amount - record.applied),
                  "outstanding": str(max(invoice.outstanding, Decimal("0.00"))),
                  "currency": invoice.currency,
                  "received_on": received_on.isoformat()}},
        dedup_key=f"billing:payment-received:{record.pk}")
    _mark_paid_if_settled(order, actor=actor)
    return record


def apply_customer_credit(*, invoice_id: int, actor: Actor,
                          submission_key: str | None = None) -> InvoicePayment:
    """Settle an invoice (partly) with the customer's credit in its currency.

    The customer row is locked (after the order and the invoice, the usual
    order) so two applications at once cannot spend the same credit twice.
    `submission_key`: the button's one-time key (see `record_invoice_payment`).
    """
    with transaction.atomic(durable=True):
        submission = claim_submission(key=submission_key, purpose=CREDIT_SUBMISSION,
                                      actor=actor)
        order, invoice = lock_order_and_invoice(invoice_id)
        if invoice.number is None or invoice.is_settled:
            raise NotAllowed(_("Invoice %(number)s has nothing left to pay.")
                             % {"number": invoice.number or "-"}, code="settled")
        Customer.objects.select_for_update().filter(pk=invoice.customer_id).first()
        balance = (CustomerCredit.objects.filter(customer_id=invoice.customer_id,
                                                 currency=invoice.currency)
                   .aggregate(total=Sum("amount"))["total"] or Decimal("0.00"))
        amount = min(balance, invoice.outstanding)
        if amount <= 0:
            raise NotAllowed(_("The customer has no credit in %(currency)s.")
                             % {"currency": invoice.currency}, code="no_credit")
        record = apply_payment(invoice, amount=amount, method=SettlementMethod.CUSTOMER_CREDIT,
                               received_on=timezone.localdate(), actor=actor,
                               reference=_("Customer credit"))
        CustomerCredit.objects.create(
            customer_id=invoice.customer_id, amount=-amount, currency=invoice.currency,
            invoice=invoice, invoice_payment=record, actor=record.actor,
            reason=_("Applied to invoice %(number)s") % {"number": invoice.number})
        order_events.credit_applied(order, actor=actor, invoice_number=invoice.number,
                                    amount=amount, currency=invoice.currency)
        _mark_paid_if_settled(order, actor=actor)
        record_submission_result(submission, record.pk)
    return record


def reminder_level_due(days_overdue: int, levels: list[int] | None = None) -> int | None:
    """The highest reminder level an invoice this late has reached."""
    reached = [level for level in (levels or reminder_levels()) if level <= days_overdue]
    return max(reached) if reached else None


def send_overdue_reminders(*, today: date | None = None, limit: int = 5000) -> int:
    """Queue one reminder e-mail per overdue invoice and newly reached level.

    An invoice that skipped levels (the task did not run for a while) gets
    only the highest level it has reached, not a burst of all of them.
    """
    today = today or timezone.localdate()
    levels = reminder_levels()
    if not levels:
        return 0
    candidates = list(
        Invoice.objects.filter(status__in=UNSETTLED_STATUSES, number__isnull=False,
                               due_date__lte=today.fromordinal(today.toordinal() - levels[0]))
        .order_by("due_date", "id").values_list("pk", "due_date")[:limit])
    sent = 0
    for invoice_id, due_date in candidates:
        level = reminder_level_due((today - due_date).days, levels)
        if level is not None and _remind(invoice_id=invoice_id, level=level, today=today):
            sent += 1
    return sent


def _remind(*, invoice_id: int, level: int, today: date) -> bool:
    # One short transaction per invoice: a failure leaves the others sent.
    with transaction.atomic(durable=True):
        invoice = lock_invoice(invoice_id)
        if invoice.is_settled:  # paid in the meantime
            return False
        if Reminder.objects.filter(invoice=invoice, level__gte=level).exists():
            return False
        days = (today - invoice.due_date).days
        try:
            with transaction.atomic():
                Reminder.objects.create(invoice=invoice, level=level, days_overdue=days)
        except IntegrityError:  # a concurrent run sent this level
            return False
        outbox.enqueue(EMAIL_HANDLER, {
            "order_id": invoice.order_id, "kind": "overdue_reminder",
            "extra": {"invoice_number": invoice.number, "level": level, "days_overdue": days,
                      "due_date": invoice.due_date.isoformat(),
                      "outstanding": str(invoice.outstanding), "currency": invoice.currency,
                      "total": str(invoice.total_gross)},
            # The invoice again, so the customer need not search for it.
            "attachments": [{"path": invoice.pdf_path, "filename": f"{invoice.number}.pdf",
                             "mimetype": "application/pdf"}] if invoice.pdf_path else []},
            dedup_key=f"billing:reminder:{invoice.pk}:{level}")
    return True
