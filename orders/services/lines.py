"""Changes to one line of an order once it is approved: the customer no
longer waits for a line's backordered rest."""

from __future__ import annotations

from typing import Annotated

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inventory.models import Reservation
from oms.lib import audit as audit_log
from oms.lib import events, outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.validation import Input, LongText
from orders import events as order_events
from orders.models import Order, OrderLine, OrderStatus
from orders.services._common import EMAIL_HANDLER, MAX_NOTE, _refuse, _transition, lock_order
from orders.services.change_plan import figures_without, set_figures
from orders.services.fulfilment import ORDER_SHIPPED


class CancelRest(Input):
    reason: Annotated[str, LongText(MAX_NOTE)] = ""
    error_message = gettext_lazy("Please correct the reason.")


def cancel_backordered_rest(*, order_id: int, line_id: int, actor: Actor,
                            reason: str = "") -> Order:
    """Drop the units of one line that still wait for stock, in one action.

    The line keeps what shipped or is reserved; the waiting units become
    `cancelled_quantity`, the order's figures are those of a change removing
    them (`change_plan.figures_without`: prices, the discounts shared again,
    the shipping charge; the invoice and the card capture follow the totals
    and the shipped units), the
    timeline and the customer are told. The order then moves on: reserved
    when what is left is all reserved, shipped when what left already is
    all there is, cancelled when nothing of it remains at all.
    """
    reason = CancelRest.parse({"reason": reason}).reason
    with transaction.atomic():
        order = lock_order(order_id=order_id, related=("customer",))
        line = OrderLine.objects.filter(pk=line_id, order_id=order.pk).first()
        if line is None:
            raise ApplicationError(_("This line does not belong to the order."),
                                   field_errors={"line": [_("Unknown line.")]},
                                   code="not_found")
        if not order.may_cancel_waiting:
            raise _refuse(order, _("changed"))
        quantity = line.backordered_quantity
        if quantity == 0:
            raise NotAllowed(_("%(sku)s: no units of this line are waiting for stock.")
                             % {"sku": line.sku}, code="nothing_waiting")
        audit_log.record_changes(
            line, on=order, object_label=f"{order.number} · {line.sku}", actor=actor,
            kind=audit_log.Kind.CHANGED, changes={
                "cancelled_quantity": (line.cancelled_quantity,
                                       line.cancelled_quantity + quantity),
                "backordered_quantity": (quantity, 0)})
        # The figures a change removing these units would give: discounts
        # shared again, the shipping charge for what is left.
        lines = list(order.lines.order_by("position"))
        plans, totals, charge = figures_without(order, lines, fewer={line.pk: quantity})
        changed_fields = set_figures(order, plans, totals, charge)
        line = next(li for li in lines if li.pk == line.pk)
        line.cancelled_quantity += quantity
        line.backordered_quantity = 0
        OrderLine.objects.bulk_update(lines, ["unit_price", "line_net", "discount",
                                              "order_discount", "cancelled_quantity",
                                              "backordered_quantity"])
        order.save(update_fields=[*changed_fields, "updated_at"])
        event = order_events.line_cancelled(order, actor=actor, line=line, quantity=quantity,
                                            reason=reason)
        outbox.enqueue(EMAIL_HANDLER, {
            "order_id": order.pk, "kind": "line_cancelled", "reason": reason,
            "extra": {"sku": line.sku, "name": line.name, "quantity": quantity}},
            dedup_key=f"orders:email:{order.pk}:line_cancelled:{event.pk}")
        _move_on(order, lines, actor=actor)
    return order


def _move_on(order: Order, lines: list[OrderLine], *, actor: Actor) -> None:
    waiting = any(li.backordered_quantity for li in lines)
    held = dict(Reservation.objects.filter(order_id=order.pk).exclude(
        status__in=[Reservation.Status.RELEASED, Reservation.Status.EXPIRED])
        .values_list("status", "pk"))
    reserved = Reservation.Status.ACTIVE in held
    shipped = Reservation.Status.CONSUMED in held
    if waiting:
        return
    if reserved:
        if order.status == OrderStatus.BACKORDERED:
            _transition(order, "allocate", actor=actor, refused_as=_("allocated"))
        return
    if order.status not in (OrderStatus.BACKORDERED, OrderStatus.RESERVED):
        return  # in the warehouse: its shipment ends it
    if shipped:
        _transition(order, "close_shipped", actor=actor, refused_as=_("shipped"))
        events.publish(ORDER_SHIPPED, {"order_id": order.pk},
                       dedup_key=f"order:{order.pk}:shipped")
    else:
        _transition(order, "cancel", actor=actor, refused_as=_("cancelled"),
                    reason=_("Every line was cancelled."))
        outbox.enqueue(EMAIL_HANDLER, {"order_id": order.pk, "kind": "cancelled",
                                       "reason": ""},
                       dedup_key=f"orders:email:{order.pk}:cancelled")
        events.publish("order.cancelled", {"order_id": order.pk},
                       dedup_key=f"order:{order.pk}:cancelled")
