"""The payment side of a change of an order before shipment.

`adjust_order_payment` is registered with orders
(`orders.payments.register_payment_adjuster`, in `BillingConfig.ready()`)
and runs inside the change's transaction, after the order row is locked.
An increase asks the newest open payment's provider for a further
authorisation of the difference; a decline is returned, and orders refuses
the change (nothing is written: the customer may give another card or the
change may be smaller), rather than holding an approved order for a change
of its own; on account (net terms), the new total must also fit the
customer's credit limit (the approval's rule), else the change is refused
with the figures. A decrease releases the difference from the open payments,
newest first; one released in full is voided. Each provider call carries a
key derived from the change, so a retry never authorises twice.
"""

from __future__ import annotations

from decimal import Decimal

from billing.models import OPEN_STATUSES, Payment, PaymentMethod
from billing.providers import get_provider
from billing.services.approval import credit_verdict
from oms.lib.actors import Actor
from orders.models import Order
from orders.payments import PaymentAdjustment


def adjust_order_payment(*, order: Order, old_total: Decimal, new_total: Decimal, key: str,
                         actor: Actor, dry_run: bool = False) -> PaymentAdjustment:
    payments = list(Payment.objects.filter(order_id=order.pk, status__in=OPEN_STATUSES)
                    .order_by("-pk"))
    delta = new_total - old_total
    if not payments or not delta:
        return PaymentAdjustment(action="none")
    if delta > 0:
        if dry_run:
            return PaymentAdjustment(action="authorised", amount=str(delta))
        payment = payments[0]
        if _on_account(order, payment):
            # The order's new total (saved already) must fit the credit limit too.
            held = credit_verdict(order)
            if held is not None:
                return PaymentAdjustment(action="authorised", amount=str(delta), declined=True,
                                         message=held.reason_text)
        result = get_provider(payment.provider).adjust(
            reference=payment.provider_reference, amount=payment.amount + delta,
            idempotency_key=f"{key}:{payment.pk}"[:100], actor=actor)
        return PaymentAdjustment(action="authorised", amount=str(delta),
                                 declined=not result.approved, message=result.message)
    release = -delta
    released = Decimal(0)
    for payment in payments:
        if released == release:
            break
        take = min(release - released, payment.amount)
        released += take
        if dry_run:
            continue
        provider = get_provider(payment.provider)
        if take == payment.amount:
            provider.void(reference=payment.provider_reference,
                          idempotency_key=f"{key}:void:{payment.pk}"[:100], actor=actor)
        else:
            provider.adjust(reference=payment.provider_reference, amount=payment.amount - take,
                            idempotency_key=f"{key}:{payment.pk}"[:100], actor=actor)
    return PaymentAdjustment(action="released", amount=str(released))


def _on_account(order: Order, payment: Payment) -> bool:
    """Paid later against the customer's credit (the approval's rule 5)."""
    prepaid = order.customer.is_prepaid or order.account_unverified
    return payment.method == PaymentMethod.NET_TERMS or (
        payment.method == PaymentMethod.BANK_TRANSFER and not prepaid)
