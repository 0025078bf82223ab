"""Shared pieces of the order services: inputs, limits, the row lock, and
the one helper every transition goes through (FSM method, save, event)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django_fsm import can_proceed

from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.actors import actor_id as _actor_id
from oms.lib.errors import ApplicationError, NotAllowed
from orders.models import EventKind, Order, OrderEvent

MAX_LINES = 500
MAX_QUANTITY = 1_000_000
MAX_NOTE = 4000
MAX_CARRIER = 100  # Order.requested_carrier

EMAIL_HANDLER = "orders.send_order_email"
HOLD_NOTICE_HANDLER = "orders.notify_order_held"


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int


class OrderNotFound(ApplicationError):
    status = 404


def _lock_order(order_id: int) -> Order:
    """The order row, locked for the rest of the transaction."""
    order = Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(_("Order not found."), code="not_found")
    return order


def _refuse(order: Order, action: str) -> NotAllowed:
    return NotAllowed(
        _("Order %(number)s is %(status)s and cannot be %(action)s.")
        % {"number": order.number, "status": order.get_status_display().lower(),
           "action": action},
        code="illegal_transition")


def _new_event(order: Order, *, kind: str, actor: Actor, from_status: str = "",
               to_status: str = "", reason: str = "", data: dict | None = None) -> OrderEvent:
    """An unsaved event (for one bulk INSERT of several)."""
    return OrderEvent(order=order, kind=kind, actor_id=_actor_id(actor),
                      from_status=from_status, to_status=to_status, reason=reason,
                      data=data or {})


def _event(order: Order, *, kind: str, actor: Actor, from_status: str = "", to_status: str = "",
           reason: str = "", data: dict | None = None) -> OrderEvent:
    event = _new_event(order, kind=kind, actor=actor, from_status=from_status,
                       to_status=to_status, reason=reason, data=data)
    event.save(force_insert=True)
    return event


def _run_transition(order: Order, method_name: str, *, refused_as: str, **kwargs: Any
                    ) -> tuple[str, list[str]]:
    """Run the FSM transition in memory: (previous status, fields it changed)."""
    method = getattr(order, method_name)
    if not can_proceed(method):
        raise _refuse(order, refused_as)
    before = {f.attname: getattr(order, f.attname) for f in order._meta.concrete_fields}
    from_status = order.status
    method(**kwargs)
    changed = [name for name, value in before.items() if getattr(order, name) != value]
    return from_status, changed


def _transition(order: Order, method_name: str, *, actor: Actor, reason: str = "",
                data: dict | None = None, refused_as: str, **kwargs: Any) -> OrderEvent:
    """Run the FSM transition `method_name`, save what it changed, and write its event."""
    from_status, changed = _run_transition(order, method_name, refused_as=refused_as,
                                           **kwargs)
    order.save(update_fields=[*changed, "updated_at"])
    return _event(order, kind=EventKind.STATUS_CHANGED, actor=actor, from_status=from_status,
                  to_status=order.status, reason=reason, data=data)


def _email_customer(order: Order, kind: str, *, reason: str = "") -> None:
    outbox.enqueue(EMAIL_HANDLER, {"order_id": order.pk, "kind": kind, "reason": reason},
                   dedup_key=f"orders:email:{order.pk}:{kind}")


def _clean_text(value: object, *, field: str, limit: int, required: bool = False,
                errors: dict[str, list[str]]) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = [_("Enter text.")]
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = [_("This field is required.")]
    elif len(value) > limit:
        errors[field] = [_("At most %(n)d characters.") % {"n": limit}]
    return value
