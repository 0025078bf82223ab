"""Transitions after reservation: picking, packing, shipping (driven by the
fulfillment app), invoicing and payment (driven by billing), which call them
inside their own transaction with the order locked."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from inventory import api as inventory_api
from inventory.models import Reservation
from oms.lib import events, outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from orders import events as order_events
from orders.models import Order, OrderLine, OrderStatus
from orders.services._common import (
    EMAIL_HANDLER,
    ShortPick,
    _actor_id,
    _refuse,
    _transition,
    lock_order,
)
from orders.services.allocation import allocate_waiting

ORDER_SHIPPED = "order.shipped"


def start_picking(*, order_id: int, actor: Actor, data: dict | None = None) -> Order:
    """reserved -> picking: the order went onto a pick list."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        _transition(order, "start_picking", actor=actor, data=data,
                    refused_as=_("picked"))
    return order


def mark_packed(*, order_id: int, actor: Actor, data: dict | None = None) -> Order:
    """picking -> packed: every warehouse's part of the order is packed."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        _transition(order, "pack", actor=actor, data=data, refused_as=_("packed"))
    return order


def mark_shipped(*, order_id: int, actor: Actor, data: dict | None = None) -> Order:
    """packed -> shipped once every shipment has left; billing hears of it
    through the "order.shipped" domain event (invoice, card capture)."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        _transition(order, "ship", actor=actor, data=data, refused_as=_("shipped"))
        events.publish(ORDER_SHIPPED, {"order_id": order.pk},
                       dedup_key=f"order:{order.pk}:shipped")
    return order


def record_short_pick(*, order_id: int, lines: dict[int, int], actor: Actor,
                      reason: str = "", warehouse_id: int | None = None) -> Order:
    """The picker found fewer units than reserved: the missing quantity of
    each line (`{order_line_id: short_quantity}`) goes back to allocation at
    once, never dropped silently and never left "to follow" with nothing to
    move it.

    With `warehouse_id` (the pick list's warehouse) the missing units are
    written off there (they are not on the shelf: stock and ledger say so)
    and the line takes what another warehouse has (`allocate_waiting`); the
    rest waits as backordered, and the customer is told. Without it only
    the waiting quantity is recorded.
    """
    reason = ShortPick.parse({"lines": lines, "reason": reason}).reason
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        if order.status != OrderStatus.PICKING:
            raise _refuse(order, _("short picked"))
        by_id = {line.pk: line for line in order.lines.filter(pk__in=list(lines))}
        for line_id, short in sorted(lines.items()):
            line = by_id.get(line_id)
            if line is None:
                raise ApplicationError(_("This line does not belong to the order."),
                                       field_errors={"lines": [str(line_id)]})
            most = line.quantity - line.backordered_quantity - line.cancelled_quantity
            if not isinstance(short, int) or short <= 0 or short > most:
                raise ApplicationError(
                    _("%(sku)s: the short quantity must be between 1 and %(max)d.")
                    % {"sku": line.sku, "max": most},
                    field_errors={"lines": [line.sku]})
        recorded = dict(lines)
        if warehouse_id is not None:
            recorded = inventory_api.write_off_short_pick(
                order_id=order.pk, warehouse_id=warehouse_id, lines=dict(lines),
                actor_id=_actor_id(actor), reference=order.number)
        for line_id, short in sorted(recorded.items()):
            if short:
                OrderLine.objects.filter(pk=line_id).update(
                    backordered_quantity=F("backordered_quantity") + short)
        event = order_events.short_picked(order, actor=actor, short=recorded, reason=reason,
                                  skus={pk: line.sku for pk, line in by_id.items()})
        if warehouse_id is not None:
            allocate_waiting(order_ids=[order.pk], actor=actor,
                             product_ids=sorted({by_id[pk].product_id for pk in recorded}),
                             exclude_warehouses=[warehouse_id])
        if OrderLine.objects.filter(pk__in=list(recorded), backordered_quantity__gt=0).exists():
            # What no warehouse has waits: the customer hears it now, not at shipping.
            outbox.enqueue(EMAIL_HANDLER, {"order_id": order.pk, "kind": "backordered",
                                           "reason": ""},
                           dedup_key=f"orders:email:{order.pk}:short:{event.pk}")
    return order


def mark_part_shipped(*, order_id: int, actor: Actor, data: dict | None = None) -> Order:
    """A shipment left but the order is not complete: back to `reserved`
    when stock is reserved for its next shipment, else `backordered` until
    its waiting units arrive (or are cancelled)."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        reserved = Reservation.objects.filter(order_id=order.pk, kind=Reservation.Kind.FIRM,
                                              status=Reservation.Status.ACTIVE).exists()
        _transition(order, "part_shipped" if reserved else "part_shipped_waiting",
                    actor=actor, data=data, refused_as=_("shipped"))
    return order


def mark_invoiced(*, order_id: int, invoice_number: str, actor: Actor) -> Order:
    """shipped -> invoiced. A repeat for an order already invoiced or paid
    (a retried outbox handler) changes nothing."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        if order.status in (OrderStatus.INVOICED, OrderStatus.PAID):
            return order
        _transition(order, "invoice", actor=actor, data={"invoice_number": invoice_number},
                    refused_as=_("invoiced"))
    return order


def mark_paid(*, order_id: int, actor: Actor) -> Order:
    """invoiced -> paid when the order's invoices are settled. A repeat for
    an order already paid changes nothing."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        if order.status == OrderStatus.PAID:
            return order
        _transition(order, "pay", actor=actor, refused_as=_("marked paid"))
    return order
