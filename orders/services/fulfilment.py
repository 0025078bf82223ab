"""Transitions after reservation: picking, packing, shipping (driven by the
fulfillment app), invoicing and payment (driven by billing), which call them
inside their own transaction with the order locked."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from oms.lib import events
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from orders import events as order_events
from orders.models import Order, OrderStatus
from orders.services._common import (
    ShortPick,
    _refuse,
    _transition,
    lock_order,
)

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
                      reason: str = "") -> Order:
    """The picker found fewer units than ordered: the missing quantity of each
    line (`{order_line_id: short_quantity}`) is recorded as backordered on the
    line and on the timeline, never dropped silently."""
    reason = ShortPick.parse({"lines": lines, "reason": reason}).reason
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        if order.status != OrderStatus.PICKING:
            raise _refuse(order, _("short picked"))
        by_id = {line.pk: line for line in order.lines.filter(pk__in=list(lines))}
        recorded: dict[int, int] = {}
        for line_id, short in sorted(lines.items()):
            line = by_id.get(line_id)
            if line is None:
                raise ApplicationError(_("This line does not belong to the order."),
                                       field_errors={"lines": [str(line_id)]})
            if not isinstance(short, int) or short <= 0 or (
                    line.backordered_quantity + short > line.quantity):
                raise ApplicationError(
                    _("%(sku)s: the short quantity must be between 1 and %(max)d.")
                    % {"sku": line.sku, "max": line.quantity - line.backordered_quantity},
                    field_errors={"lines": [line.sku]})
            line.backordered_quantity += short
            line.save(update_fields=["backordered_quantity"])
            recorded[line_id] = short
        order_events.short_picked(order, actor=actor, short=recorded, reason=reason,
                                  skus={pk: line.sku for pk, line in by_id.items()})
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
