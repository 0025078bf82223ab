"""The order timeline's writers: one function per event kind.

Each writes one `OrderEvent` in the caller's transaction, with the facts in
its payload (`data`: amounts as Decimal strings with their currency, codes,
numbers), never as prose in the acting user's language: the timeline renders
each row from its kind and payload in the reader's language
(`OrderEvent.summary`). Free text a person typed (a note, a reason) is kept
as typed. Billing and fulfillment write their facts on the order's timeline
through these functions, after locking the order.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.utils import translation
from django.utils.functional import Promise

from oms.lib.actors import Actor
from orders.models import EventKind, Order, OrderEvent, OrderLine, OrderStatus


def _event(order: Order, kind: str, *, actor: Actor, save: bool = True, reason: str = "",
           from_status: str = "", to_status: str = "", data: dict | None = None
           ) -> OrderEvent:
    event = OrderEvent(order=order, kind=kind, actor_id=getattr(actor, "pk", None),
                       from_status=from_status, to_status=to_status, reason=reason,
                       data=data or {})
    if save:
        event.save(force_insert=True)
    return event


def _msgid(label: str | Promise) -> str:
    """The untranslated text of a gettext_lazy label (a choice's label), so
    the reader's language can translate it again."""
    with translation.override(None):
        return str(label)


def order_created(order: Order, *, actor: Actor, channel: str, lines: int,
                  save: bool = True) -> OrderEvent:
    """`save=False`: unsaved, for one INSERT with the placement's status event."""
    return _event(order, EventKind.CREATED, actor=actor, save=save,
                  to_status=OrderStatus.DRAFT, data={"channel": channel, "lines": lines})


def status_changed(order: Order, *, actor: Actor, from_status: str, to_status: str,
                   reason: str = "", data: dict | None = None,
                   save: bool = True) -> OrderEvent:
    return _event(order, EventKind.STATUS_CHANGED, actor=actor, save=save,
                  from_status=from_status, to_status=to_status, reason=reason, data=data)


def note_added(order: Order, *, actor: Actor, text: str) -> OrderEvent:
    return _event(order, EventKind.NOTE, actor=actor, reason=text)


def email_sent(order: Order, *, kind: str, outbox_message_id: int, to: str, subject: str,
               body: str = "", attachments: Iterable[str] = ()) -> OrderEvent:
    """A customer e-mail went out, subject and text body as sent (customer
    service reads them on the customer card); `outbox_message_id` makes a
    re-run send nothing twice (see orders.emails)."""
    return _event(order, EventKind.EMAIL, actor=None, reason=kind,
                  data={"outbox_message_id": outbox_message_id, "to": to,
                        "subject": subject, "body": body, "attachments": list(attachments)})


def payment_recorded(order: Order, *, actor: Actor, invoice_number: str, amount: Decimal,
                     currency: str, method: str, method_label: str | Promise, reference: str = ""
                     ) -> OrderEvent:
    """Money received against one of the order's invoices; `method_label` is
    the method's (lazy) choice label."""
    return _event(order, EventKind.PAYMENT, actor=actor, data={
        "invoice_number": invoice_number, "amount": str(amount), "currency": currency,
        "method": method, "method_label": _msgid(method_label), "reference": reference})


def credit_applied(order: Order, *, actor: Actor, invoice_number: str, amount: Decimal,
                   currency: str) -> OrderEvent:
    """The customer's credit balance paid (part of) an invoice."""
    return _event(order, EventKind.CREDIT_APPLIED, actor=actor, data={
        "invoice_number": invoice_number, "amount": str(amount), "currency": currency})


def credit_note_issued(order: Order, *, actor: Actor, invoice_number: str, credit_note_number: str,
                       reason: str) -> OrderEvent:
    """`reason`: as the issuer typed it."""
    return _event(order, EventKind.CREDIT_NOTE, actor=actor, reason=reason, data={
        "invoice_number": invoice_number, "credit_note_number": credit_note_number})


def card_authorised(order: Order, *, actor: Actor, brand: str, last4: str, waiting_for: str
                    ) -> OrderEvent:
    """The customer re-entered card details and they were authorised, but the
    order still waits for a person: `waiting_for` is a HoldReason."""
    return _event(order, EventKind.CARD_AUTHORISED, actor=actor, data={
        "brand": brand, "last4": last4, "waiting_for": waiting_for})


def prepayment_received(order: Order, *, actor: Actor, waiting_for: str) -> OrderEvent:
    """The prepayment arrived, but the order still waits for a person
    (`waiting_for`: a HoldReason)."""
    return _event(order, EventKind.PREPAYMENT, actor=actor,
                  data={"waiting_for": waiting_for})


def capture_failed(order: Order, *, actor: Actor, payment_id: int, error: str) -> OrderEvent:
    """The card payment could not be captured at shipment; `error`: the
    gateway's answer, as it gave it."""
    return _event(order, EventKind.CAPTURE_FAILED, actor=actor,
                  data={"payment_id": payment_id, "error": error})


def short_picked(order: Order, *, actor: Actor, short: dict[int, int], skus: dict[int, str],
                 reason: str = "") -> OrderEvent:
    """The picker found fewer units: `short` is the missing quantity per order
    line id, now backordered; `reason`: as the picker typed it."""
    return _event(order, EventKind.STOCK, actor=actor, reason=reason, data={
        "short_pick": {str(pk): quantity for pk, quantity in short.items()},
        "skus": {str(pk): sku for pk, sku in skus.items()}})


def line_cancelled(order: Order, *, actor: Actor, line: OrderLine, quantity: int,
                   reason: str = "") -> OrderEvent:
    """The backordered rest of a line (`quantity` units) was cancelled;
    `reason`: as typed."""
    return _event(order, EventKind.LINE_CANCELLED, actor=actor, reason=reason, data={
        "line_id": line.pk, "sku": line.sku, "quantity": quantity})


def order_changed(order: Order, *, actor: Actor, data: dict) -> OrderEvent:
    """Lines, addresses, carrier, promised date or notes changed before
    shipment (orders.services.changes). `data`: "lines" [{line_id, sku, name,
    before, after}], "fields" {name: {before, after}}, "totals" {before,
    after, currency} (gross), "payment" (what the provider was asked)."""
    return _event(order, EventKind.CHANGED, actor=actor, data=data)


def return_changed(order: Order, *, actor: Actor, number: str, status: str, reason: str = "",
                   data: dict | None = None) -> OrderEvent:
    """A return of the order was opened or moved to `status` (a ReturnStatus);
    `reason`: as typed (a refusal, a window override); `data`: the settlement's
    facts (settlement, amount, currency, credit_note_number, exchange_order_number)."""
    return _event(order, EventKind.RETURN, actor=actor, reason=reason,
                  data={"number": number, "status": status, **(data or {})})


def units_unpicked(order: Order, *, actor: Actor, pick_list: str, warehouse: str, bin_code: str,
                   line: OrderLine, quantity: int, reason: str = "") -> OrderEvent:
    """Picked units of `line` went back to their bin (still reserved for the
    order, no longer picked); `reason`: as the warehouse typed it."""
    return _event(order, EventKind.UNPICKED, actor=actor, reason=reason, data={
        "pick_list": pick_list, "warehouse": warehouse, "bin": bin_code, "line_id": line.pk,
        "sku": line.sku, "quantity": quantity})


def address_request(order: Order, *, actor: Actor, status: str, address: dict,
                    reason: str = "") -> OrderEvent:
    """The customer asked for another delivery address (`status` pending), or
    staff accepted or refused it; `reason`: a refusal's, as typed."""
    return _event(order, EventKind.ADDRESS_REQUEST, actor=actor, reason=reason, data={
        "status": status, "line1": str(address.get("line1", "")),
        "city": str(address.get("city", "")),
        "country": str(address.get("country", ""))})


def order_delivered(order: Order, *, actor: Actor, shipments: list[str]) -> OrderEvent:
    """Every parcel of the order arrived; `shipments`: their numbers."""
    return _event(order, EventKind.DELIVERED, actor=actor, data={"shipments": shipments})
