"""Settling a return once its units are inspected: a refund, store credit
or an exchange.

- Refund: a credit note for the returned units (the gapless credit-note
  series); what it credits beyond the invoice's open amount is paid back to
  the captured payment through the outbox (`REFUND_HANDLER`), with an
  idempotency key per return, so a retried handler refunds once.
- Store credit: the same credit note; what the invoice no longer owes stays
  with the customer as credit (`CustomerCredit`).
- Exchange: a replacement order at no charge, reserved at once
  (`orders.services.returns.place_replacement_order`).

The return closes through `orders.services.returns.settle_return` in the
same transaction. Lock order: the order, the return, then the invoice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.locks import lock_invoice
from billing.models import CustomerCredit, Invoice, Payment, PaymentTransaction
from billing.providers import get_provider
from billing.services.invoicing import CreditLineInput, CreditNoteInput, credit_invoice
from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.money import ZERO, quantize_money
from orders import discounts as order_discounts
from orders.models import Order, OrderLine, Return, Settlement
from orders.services import returns as return_services

REFUND_HANDLER = "billing.refund_return"
SETTLEMENTS = (Settlement.REFUND, Settlement.STORE_CREDIT, Settlement.EXCHANGE)


MAX_EXCHANGE_UNITS = 100_000


@dataclass(frozen=True)
class ReturnSettlementInput:
    """How accounting settles the return (a `Settlement`, not "none");
    `exchange`: for an exchange, other products (SKU, units) instead of the
    returned ones."""

    settlement: str
    exchange: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.settlement not in SETTLEMENTS:
            message = _("Choose a refund, store credit or an exchange.")
            raise ApplicationError(message, field_errors={"settlement": [message]})
        errors: dict[str, list[str]] = {}
        if self.exchange and self.settlement != Settlement.EXCHANGE:
            errors["settlement"] = [_("Other products are given only in an exchange.")]
        for index, (sku, quantity) in enumerate(self.exchange):
            if not sku:
                errors[f"exchange.{index}.sku"] = [_("Enter a SKU.")]
            if not 0 < quantity <= MAX_EXCHANGE_UNITS:
                errors[f"exchange.{index}.quantity"] = [
                    _("Enter a whole number from 1 to %(max)d.") % {"max": MAX_EXCHANGE_UNITS}]
        if errors:
            raise ApplicationError(_("Please correct the settlement."), field_errors=errors)

    @classmethod
    def parse(cls, *, settlement: str, skus: list[str], quantities: list[str]
              ) -> ReturnSettlementInput:
        """Form rows of SKU and units; rows left empty are ignored."""
        rows = []
        for sku, quantity in zip(skus, quantities, strict=False):
            sku, quantity = (sku or "").strip(), (quantity or "").strip()
            if sku or quantity:
                rows.append((sku, int(quantity) if quantity.isdigit() else -1))
        return cls(settlement=settlement, exchange=tuple(rows))


def refund_key(return_id: int) -> str:
    """The payment provider's idempotency key of a return's refund."""
    return f"return:{return_id}:refund"


def _credit_lines(ret: Return, units: list[tuple[OrderLine, int]]) -> tuple[CreditLineInput, ...]:
    """Per returned line: its net for the units back (the line's discounts
    shared per unit), at the line's tax rate."""
    lines = []
    for line, quantity in units:
        off = (line.discount + line.order_discount) * quantity / line.quantity
        net = quantize_money(line.unit_price * quantity - off)
        if net > ZERO:
            lines.append(CreditLineInput(
                description=_("Return %(number)s: %(quantity)d x %(sku)s %(name)s") % {
                    "number": ret.number, "quantity": quantity, "sku": line.sku,
                    "name": line.name},
                net=net, tax_rate=line.tax_rate))
    return tuple(lines)


def _invoice(order: Order) -> Invoice:
    invoice_id = (Invoice.objects.filter(order=order, number__isnull=False)
                  .order_by("-id").values_list("pk", flat=True).first())
    if invoice_id is None:
        raise NotAllowed(_("Order %(number)s has no issued invoice to credit.")
                         % {"number": order.number}, code="no_invoice")
    return lock_invoice(invoice_id)


def settle_return(*, return_id: int, data: ReturnSettlementInput, actor: Actor,
                  today: date | None = None) -> Return:
    """Accounting settles an inspected return; it closes."""
    today = today or timezone.localdate()
    with transaction.atomic(durable=True):
        order, ret = return_services.lock_return(return_id=return_id)
        if not ret.awaits_settlement:
            raise NotAllowed(_("Return %(number)s is %(status)s and cannot be settled.")
                             % {"number": ret.number,
                                "status": ret.get_status_display().lower()},
                             code="illegal_transition")
        if data.settlement == Settlement.EXCHANGE and data.exchange:
            return _exchange_other_products(order, ret, data, actor=actor, today=today)
        if data.settlement == Settlement.EXCHANGE:
            replacement = return_services.place_replacement_order(return_id=ret.pk, actor=actor)
            return return_services.settle_return(return_id=ret.pk, actor=actor,
                                                 settlement=Settlement.EXCHANGE,
                                                 exchange_order=replacement)
        lines = _credit_lines(ret, return_services.returned_units(ret))
        if not lines:
            return return_services.settle_return(return_id=ret.pk, actor=actor,
                                                 settlement=Settlement.NONE)
        invoice = _invoice(order)
        refund_to = _refundable_payment(order) if data.settlement == Settlement.REFUND else None
        note = credit_invoice(order, invoice, actor=actor, today=today, data=CreditNoteInput(
            reason=_("Return %(number)s") % {"number": ret.number}, lines=lines))
        if data.settlement == Settlement.REFUND:
            # What the invoice no longer owes went to the customer's credit:
            # it leaves that credit and goes back to the payment instead.
            owed = sum(CustomerCredit.objects.filter(credit_note=note)
                       .values_list("amount", flat=True), ZERO)
            if owed > ZERO:
                if refund_to is None or refund_to.captured_amount - refund_to.refunded_amount \
                        < owed:
                    raise ApplicationError(
                        _("Order %(number)s has no captured payment to refund %(amount)s to; "
                          "settle with store credit instead.")
                        % {"number": order.number, "amount": owed}, code="no_payment")
                CustomerCredit.objects.create(
                    customer_id=note.customer_id, amount=-owed, currency=note.currency,
                    credit_note=note, invoice=invoice, actor=note.issued_by,
                    reason=_("Refunded for return %(number)s") % {"number": ret.number})
                outbox.enqueue(REFUND_HANDLER, {"return_id": ret.pk, "payment_id": refund_to.pk,
                                                "amount": str(owed)},
                               dedup_key=f"billing:return-refund:{ret.pk}")
        return return_services.settle_return(
            return_id=ret.pk, actor=actor, settlement=data.settlement, amount=note.total_gross,
            credit_note_number=note.number or "")


def _exchange_other_products(order: Order, ret: Return, data: ReturnSettlementInput, *,
                             actor: Actor, today: date) -> Return:
    """Other products for the returned units, settled on the net difference:
    the returned units' net value (as a refund would credit it) is the
    replacement order's discount. Dearer new goods: the replacement charges
    the rest through its own invoice when it ships. Cheaper: the replacement
    is free and a credit note on the original invoice credits the rest,
    shared over the returned lines by value at their tax rates (it stays as
    store credit when that invoice was paid)."""
    returned = _credit_lines(ret, return_services.returned_units(ret))
    credit = sum((line.net for line in returned), ZERO)
    goods = return_services.exchange_goods(order, list(data.exchange))
    replacement = return_services.place_replacement_order(
        return_id=ret.pk, actor=actor, exchange=list(data.exchange), credit=credit)
    rest = credit - goods
    if rest <= ZERO:
        return return_services.settle_return(return_id=ret.pk, actor=actor,
                                             settlement=Settlement.EXCHANGE,
                                             exchange_order=replacement)
    shares = order_discounts.allocate(rest, [line.net for line in returned])
    note = credit_invoice(order, _invoice(order), actor=actor, today=today,
                          data=CreditNoteInput(
                              reason=_("Return %(number)s: exchanged for cheaper goods "
                                       "(%(order)s)") % {"number": ret.number,
                                                         "order": replacement.number},
                              lines=tuple(replace(line, net=share) for line, share
                                          in zip(returned, shares, strict=True) if share)))
    return return_services.settle_return(
        return_id=ret.pk, actor=actor, settlement=Settlement.EXCHANGE,
        amount=note.total_gross, credit_note_number=note.number or "",
        exchange_order=replacement)


def _refundable_payment(order: Order) -> Payment | None:
    return (Payment.objects.filter(order=order, captured_amount__gt=F("refunded_amount"))
            .order_by("-id").first())


def refund_return(*, return_id: int, payment_id: int, amount: Decimal) -> bool:
    """Pay the refund of a settled return back to the payment (the outbox
    handler); False when it was refunded already. The provider call carries
    the return's idempotency key, so even a run that crashed after the
    provider answered refunds once."""
    key = refund_key(return_id)
    if PaymentTransaction.objects.filter(idempotency_key=key).exists():
        return False
    payment = Payment.objects.get(pk=payment_id)
    get_provider(payment.provider).refund(reference=payment.provider_reference,
                                          idempotency_key=key, amount=amount, actor=None)
    return True
