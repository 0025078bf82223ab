"""Transitions after placement: approve, backorders, hold, reject, cancel,
notes. Each locks the order row first (see the package docstring)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from inventory import api as inventory_api
from inventory.models import Reservation
from oms.lib import events, outbox
from oms.lib.actors import Actor
from oms.lib.errors import Forbidden, NotAllowed
from orders import events as order_events
from orders import holds
from orders.models import (
    APPROVE_DISCOUNT,
    RELEASE_CREDIT_HOLD,
    HoldReason,
    Order,
    OrderEvent,
    OrderLine,
)
from orders.services._common import (
    HOLD_NOTICE_HANDLER,
    Hold,
    Note,
    OrderNotFound,
    Reason,
    _actor_id,
    _email_customer,
    _refuse,
    _transition,
    lock_order,
)
from orders.services.allocation import allocate_waiting


def _firm_up(order: Order, lines: list[OrderLine], *, actor: Actor) -> bool:
    """Make the order's stock firm, line by line; True when every line is
    covered.

    Normally the holds are still there and are confirmed (one statement).
    When they are gone or short (lapsed, or the order was placed short for a
    backorder customer) they are given back and each line reserves what the
    warehouses have now; the rest of each line waits
    (`backordered_quantity`) for `allocate_waiting`. A pre-order line before
    its release date reserves nothing: all of it waits.
    """
    today = timezone.localdate()
    unreleased = {line.pk: line.quantity - line.cancelled_quantity for line in lines
                  if line.waits_for_release(today)}
    actor_id = _actor_id(actor)
    required = {line.pk: line.quantity - line.cancelled_quantity for line in lines
                if line.quantity > line.cancelled_quantity and line.pk not in unreleased}
    if not unreleased and inventory_api.confirm(order_id=order.pk, actor_id=actor_id,
                                                required=required):
        return True
    inventory_api.release(order_id=order.pk, reason="re-reserve on approval",
                          actor_id=actor_id)
    allocations = inventory_api.reserve_available(
        lines=[inventory_api.WaitingLine(order_id=order.pk, order_line_id=line.pk,
                                         product_id=line.product_id, quantity=required[line.pk])
               for line in lines if line.pk in required],
        actor_id=actor_id, reason="reserved on approval") if required else []
    got: dict[int, int] = {}
    for allocation in allocations:
        got[allocation.order_line_id] = got.get(allocation.order_line_id, 0) + allocation.quantity
    short = False
    for line in lines:
        waiting = unreleased.get(line.pk, required.get(line.pk, 0) - got.get(line.pk, 0))
        short = short or waiting > 0
        if line.backordered_quantity != waiting:
            line.backordered_quantity = waiting
            line.save(update_fields=["backordered_quantity"])
    return not short


def _check_may_release(order: Order, *, actor: Actor) -> None:
    """A credit or prepayment hold is released by Accounting or a manager
    (or the system, e.g. when the prepayment arrives), never by Sales; an
    order with discounts above its enterer's limit by a manager only."""
    if order.is_credit_hold and actor is not None and not actor.has_perm(RELEASE_CREDIT_HOLD):
        raise Forbidden(
            _("Order %(number)s is held: %(reason)s. Only Accounting or a manager may "
              "release it.") % {"number": order.number,
                                "reason": order.get_hold_reason_display().lower()},
            code="credit_hold")
    if order.discount_over_limit and actor is not None and not actor.has_perm(APPROVE_DISCOUNT):
        raise Forbidden(
            _("Order %(number)s has discounts above the limit of who entered them. Only a "
              "manager may approve it.") % {"number": order.number}, code="discount_limit")


def approve_order(*, order_id: int, actor: Actor, reason: str = "", locked: Order | None = None,
                  cause: dict[str, Any] | None = None) -> Order:
    """placed | on_hold -> reserved (stock made firm), or backordered when the
    stock is gone. Called by billing's approver and by the approval queue.

    `locked`: the order row as the caller already locked it in this
    transaction (billing's approver does), so it is not read twice. `cause`:
    the system's reason as a StatusCause (`{"cause", "figures"}`) for the event,
    which the timeline then says in the reader's language.
    """
    with transaction.atomic():
        order = (locked if locked is not None and locked.pk == order_id
                 else lock_order(order_id=order_id))
        if not can_proceed(order.approve):
            raise _refuse(order, _("approved"))
        # Every door (order page, admin, approval queue, billing) ends here.
        _check_may_release(order, actor=actor)
        if order.customer.is_blocked:
            raise NotAllowed(_("The customer is blocked; the order cannot be approved."),
                             code="customer_blocked")
        # The event says which hold was released (the actor and reason are its own).
        data = {**({"released_hold": order.hold_reason} if order.is_on_hold else {}),
                **(cause or {})}
        lines = list(order.lines.all())
        if _firm_up(order, lines, actor=actor):
            _transition(order, "approve", actor=actor, reason=reason, data=data or None,
                        refused_as=_("approved"), audit=True)
            _email_customer(order, "confirmed")
        elif not order.ships_complete and any(
                line.backordered_quantity < line.quantity - line.cancelled_quantity
                for line in lines):
            # "Ship what is ready": the reserved part may be picked now.
            _transition(order, "approve", actor=actor, reason=reason,
                        data={"stock": "partial", **data}, refused_as=_("approved"), audit=True)
            _email_customer(order, "allocated")
        else:
            _transition(order, "backorder", actor=actor, reason=reason,
                        data={"stock": "short", **data}, refused_as=_("approved"), audit=True)
            _email_customer(order, "backordered")
    return order


def allocate_backorder(*, order_id: int, actor: Actor) -> Order:
    """Give a backordered order the stock that is there now (its waiting
    lines only; see `allocate_waiting`). Refused when nothing is available
    for it."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        if not can_proceed(order.allocate):
            raise _refuse(order, _("allocated"))
        if not allocate_waiting(order_ids=[order.pk], actor=actor):
            raise NotAllowed(_("Order %(number)s: stock is still short.")
                             % {"number": order.number}, code="stock_short")
        order.refresh_from_db()
    return order


def allocate_backorders() -> int:
    """The periodic sweep: every waiting line gets what stock is available
    now, in one transaction; returns how many lines received units. So stock
    that arrives without anyone calling `allocate_waiting` (a stock count,
    a return) still reaches the orders waiting for it."""
    with transaction.atomic(durable=True):
        return allocate_waiting(actor=None)


def hold_order(*, order_id: int, reason_code: str, reason_text: str = "", actor: Actor,
               cause: dict[str, Any] | None = None) -> Order:
    """placed -> on_hold with a reason; the approvers are e-mailed, and the
    customer is told what is needed (billing's payment link does that for a
    declined card)."""
    return _hold(order_id, "hold", reason_code=reason_code, reason_text=reason_text,
                 actor=actor, cause=cause)


def change_hold_reason(*, order_id: int, reason_code: str, reason_text: str = "", actor: Actor,
                       cause: dict[str, Any] | None = None) -> Order:
    """on_hold -> on_hold for another reason, told like a new hold."""
    return _hold(order_id, "change_hold", reason_code=reason_code, reason_text=reason_text,
                 actor=actor, cause=cause)


def _hold(order_id: int, method_name: str, *, reason_code: str, reason_text: str, actor: Actor,
          cause: dict[str, Any] | None) -> Order:
    hold = Hold.parse({"reason_code": reason_code, "reason_text": reason_text})
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        if hold.reason_code != order.hold_reason:
            # Turning a credit hold into another reason would release it by the back door.
            _check_may_release(order, actor=actor)
        new_wait = not order.is_held_for(hold.reason_code)
        expires_at = (holds.hold_deadline(hold.reason_code, now=timezone.now()) if new_wait
                      else order.hold_expires_at)
        event = _transition(order, method_name, actor=actor, reason=hold.reason_text,
                            data={"hold_reason": hold.reason_code, **(cause or {})},
                            refused_as=_("put on hold"), audit=True,
                            reason_code=hold.reason_code, reason_text=hold.reason_text,
                            hold_expires_at=expires_at)
        if new_wait:
            _stock_for_wait(order, actor=actor)
        outbox.enqueue(HOLD_NOTICE_HANDLER, {"order_id": order.pk, "event_id": event.pk},
                       dedup_key=f"orders:held:{event.pk}")
        if hold.reason_code != HoldReason.PAYMENT_DECLINED:
            _email_customer(order, "on_hold")
    return order


def _stock_for_wait(order: Order, *, actor: Actor) -> None:
    """The order's stock while it waits: back to the shelf for a reason that
    releases it (approval reserves again), else held until the order's
    deadline (none: until decided)."""
    if holds.releases_stock(order.hold_reason):
        inventory_api.release(order_id=order.pk, reason=f"on hold: {order.hold_reason}",
                              actor_id=_actor_id(actor))
    else:
        inventory_api.set_hold_expiry(order_id=order.pk, expires_at=order.hold_expires_at,
                                      actor_id=_actor_id(actor))


def _close(order_id: int, method_name: str, *, actor: Actor, reason: str, refused_as: str) -> Order:
    reason = Reason.parse({"reason": reason}).reason
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        if not can_proceed(getattr(order, method_name)):
            raise _refuse(order, refused_as)
        # Part of a two-warehouse order may have left already: too late then.
        if Reservation.objects.filter(order_id=order.pk,
                                      status=Reservation.Status.CONSUMED).exists():
            raise NotAllowed(_("Order %(number)s has already partly shipped and cannot be "
                               "%(action)s.") % {"number": order.number, "action": refused_as},
                             code="illegal_transition")
        released = inventory_api.release(order_id=order.pk, reason=reason[:200],
                                         actor_id=_actor_id(actor))
        _transition(order, method_name, actor=actor, reason=reason,
                    data={"reservations_released": released}, refused_as=refused_as,
                    audit=True)
        if order.placed_at is not None:  # a draft never told the customer anything
            _email_customer(order, "cancelled", reason=reason)
        # Fulfilment drops the order's open pick lines and shipments.
        events.publish("order.cancelled", {"order_id": order.pk},
                       dedup_key=f"order:{order.pk}:cancelled")
    return order


def reject_order(*, order_id: int, actor: Actor, reason: str) -> Order:
    """on_hold -> cancelled, stock released, customer told."""
    return _close(order_id, "reject", actor=actor, reason=reason, refused_as=_("rejected"))


def cancel_order(*, order_id: int, actor: Actor, reason: str) -> Order:
    """Any open state before fulfilment -> cancelled, stock released."""
    return _close(order_id, "cancel", actor=actor, reason=reason, refused_as=_("cancelled"))


def add_note(*, order_id: int, text: str, actor: Actor) -> OrderEvent:
    text = Note.parse({"text": text}).text
    with transaction.atomic():
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            raise OrderNotFound(_("Order not found."), code="not_found")
        return order_events.note_added(order, actor=actor, text=text)
