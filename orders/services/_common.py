"""Shared pieces of the order services: the row lock, the small typed inputs
of the transitions, and the one helper every transition goes through (FSM
method, save, event)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed
from psycopg.types.json import Jsonb
from pydantic import BeforeValidator

from oms.lib import audit as audit_log
from oms.lib import events as events_bus
from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.actors import actor_id as _actor_id
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.validation import Input, LongText
from orders import events
from orders.models import EventKind, HoldReason, Order, OrderEvent
from orders.notices import ORDER_PLACED

MAX_NOTE = 4000

EMAIL_HANDLER = "orders.send_order_email"
HOLD_NOTICE_HANDLER = "orders.notify_order_held"


class Reason(Input):
    """Why an order is closed (rejected, cancelled)."""

    reason: Annotated[str, LongText(MAX_NOTE, required=True)]
    error_message = gettext_lazy("Please give a reason.")


class Hold(Input):
    reason_code: HoldReason
    reason_text: Annotated[str, LongText(MAX_NOTE)] = ""
    error_message = gettext_lazy("Please correct the hold reason.")


class Note(Input):
    text: Annotated[str, LongText(MAX_NOTE, required=True)]
    error_message = gettext_lazy("Please write a note.")


def _some_lines(value: Any) -> Any:
    if not value:
        raise ValueError(_("Name at least one short line."))
    return value


class ShortPick(Input):
    """`lines`: the missing quantity per order line id."""

    lines: Annotated[dict[int, int], BeforeValidator(_some_lines)]
    reason: Annotated[str, LongText(MAX_NOTE)] = ""
    error_message = gettext_lazy("Please correct the short pick.")


class OrderNotFound(ApplicationError):
    status = 404


def lock_order(*, order_id: int, related: tuple[str, ...] = ()) -> Order:
    """The order row (not its `related` rows), locked for the rest of the
    caller's transaction.

    Every write on an order takes it first, downstream apps before their own
    rows (shipments, invoices), so the lock order stays: order, then the
    app's rows, then reservations and stock levels (inside inventory.api).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_order() must run inside a transaction")
    order = (Order.objects.select_for_update(of=("self",)).select_related(*related)
             .filter(pk=order_id).first())
    if order is None:
        raise OrderNotFound(_("Order not found."), code="not_found")
    return order


def _refuse(order: Order, action: str) -> NotAllowed:
    return NotAllowed(
        _("Order %(number)s is %(status)s and cannot be %(action)s.")
        % {"number": order.number, "status": order.get_status_display().lower(),
           "action": action},
        code="illegal_transition")


def _run_transition(order: Order, method_name: str, *, refused_as: str, **kwargs: Any
                    ) -> tuple[str, dict[str, tuple[Any, Any]]]:
    """Run the FSM transition in memory: (previous status, {field: (before,
    after)} of the fields it changed)."""
    method = getattr(order, method_name)
    if not can_proceed(method):
        raise _refuse(order, refused_as)
    before = {f.attname: getattr(order, f.attname) for f in order._meta.concrete_fields}
    from_status = order.status
    method(**kwargs)
    changed = {name: (value, getattr(order, name)) for name, value in before.items()
               if getattr(order, name) != value}
    return from_status, changed


def _transition(order: Order, method_name: str, *, actor: Actor, reason: str = "",
                data: dict | None = None, refused_as: str, audit: bool = False,
                **kwargs: Any) -> OrderEvent:
    """Run the FSM transition `method_name`, save what it changed, and write its event.

    `audit`: a decision (approve, hold, reject, cancel), written to the audit
    trail field by field when a person made it; the payment approval's own
    verdicts (no actor) stay on the order's timeline, keeping the approval
    after every placement one statement shorter."""
    from_status, changed = _run_transition(order, method_name, refused_as=refused_as,
                                           **kwargs)
    order.save(update_fields=[*changed, "updated_at"])
    if audit and actor is not None:
        audit_log.record_changes(order, actor=actor, kind=audit_log.Kind.STATUS,
                                 changes=changed)
    return events.status_changed(order, actor=actor, from_status=from_status,
                                 to_status=order.status, reason=reason, data=data)


# One statement: lock the orders still in a source state (id order), move
# them, and insert their status events from the UPDATE's own RETURNING, so
# no row travels to Python and back.
_BULK_TRANSITION_SQL = """
WITH target AS (
    SELECT id, status AS old_status FROM orders_order
     WHERE id = ANY(%(ids)s) AND status = ANY(%(sources)s)
     ORDER BY id
       FOR UPDATE
), moved AS (
    UPDATE orders_order o
       SET status = %(target)s, updated_at = %(now)s{assignments}
      FROM target
     WHERE o.id = target.id
    RETURNING o.id, target.old_status
), events AS (
    INSERT INTO orders_orderevent (order_id, kind, actor_id, created_at, from_status,
                                   to_status, reason, data)
    SELECT id, %(kind)s, %(actor_id)s, %(now)s, old_status, %(target)s, %(reason)s, %(data)s
      FROM moved
)
SELECT id, old_status FROM moved ORDER BY id
"""


def bulk_transition(*, order_ids: list[int], transition: str, fields: dict, now: datetime,
                    actor: Actor = None, reason: str = "", data: dict | None = None
                    ) -> list[tuple[int, str]]:
    """Run the FSM transition `transition` on many orders in one statement,
    writing each order's status event as `_transition` does; returns
    `(order id, previous status)` of the orders moved, in id order.

    For set-based sweeps only (the expiry): it bypasses the transition
    method, so the source and target states come from the method's FSM
    declaration, and `fields` must be the columns the method sets (column
    name -> value). Orders no longer in a source state are skipped, so a
    concurrent transition that committed first wins.
    """
    declared = getattr(Order, transition)._django_fsm.transitions
    (target,) = {t.target for t in declared.values()}
    # `fields` names Order's own columns, never a reverse relation.
    columns = {cast(models.Field, Order._meta.get_field(name)).column: value
               for name, value in fields.items()}
    assignments = "".join(f", {column} = %(set_{column})s" for column in columns)
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(_BULK_TRANSITION_SQL.format(assignments=assignments), {
            "ids": order_ids, "sources": list(declared), "target": target, "now": now,
            "kind": EventKind.STATUS_CHANGED, "actor_id": _actor_id(actor),
            "reason": reason, "data": Jsonb(data or {}),
            **{f"set_{column}": value for column, value in columns.items()},
        })
        return cursor.fetchall()


def _email_customer(order: Order, kind: str, *, reason: str = "") -> None:
    handler_name, payload, key = _customer_email(order, kind, reason=reason)
    outbox.enqueue(handler_name, payload, dedup_key=key)


def _customer_email(order: Order, kind: str, *, reason: str = "") -> tuple[str, dict, str]:
    return (EMAIL_HANDLER, {"order_id": order.pk, "kind": kind, "reason": reason},
            f"orders:email:{order.pk}:{kind}")


def _announce_placed(order: Order) -> None:
    """The confirmation e-mail and the "order.placed" event (staff notices)
    in one INSERT: a placement writes no extra statement for them."""
    outbox.enqueue_each([_customer_email(order, "received"),
                         *events_bus.messages(ORDER_PLACED, {"order_id": order.pk},
                                              dedup_key=f"order:{order.pk}:placed")])
