"""Changing an order before it ships: its lines (add, remove, quantity),
addresses, carrier, promised date and notes; and cancelling what is left
of one line.

One code path for the screen's preview and the change itself:
`orders.services.change_plan.plan_change` reads the order and computes every
effect (stock per line, prices from the order's price lists on the order's
date, totals and tax, the payment delta) and `change_order` applies exactly
that plan in one durable transaction:

- the order row is locked first, then the warehouse's rows (the pick lists
  holding the order, through the registered `WarehouseWork`), then
  reservations and stock levels inside `inventory.api`: the lock order of
  every order service, so an edit racing a pick, a pack or a ship queues;
- the plan carries a `version` of what it read (the order row, its lines,
  what the warehouse picked and listed); a change prepared on another
  version is refused with `Conflict` (409), so a stale preview is never
  applied over a pick, a pack, a shipment or another person's edit;
- fewer units come first off what waits for stock, then off reservations not
  on a pick list, then off open pick lines; never off picked, packed or
  shipped units (picked units go back to the shelf through the warehouse's
  unpick, `fulfillment.services.unpick`, first);
- more units are reserved (a hold with the order's deadline before
  approval, firm after it); what stock cannot cover follows the order's
  backorder rule: refused unless the customer accepts backorders, else it
  waits on the line, and a "ship complete" order waits whole (backordered);
- the payment follows the new total through the registered adjuster
  (billing): a further authorisation for an increase (a decline refuses
  the change: nothing is written), part of the authorisation released for a
  decrease, idempotent by a key derived from the version;
- one "order changed" event with the before and after of every line and
  field, and the customer's e-mail (outbox) with the changes and new total.

After shipment nothing changes here: that is a return or a supplementary
invoice.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from inventory import api as inventory_api
from oms.lib import audit as audit_log
from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from orders import events as order_events
from orders.costs import snapshot_costs
from orders.inputs import LineChange, OrderChange
from orders.models import Order, OrderLine, OrderStatus
from orders.payments import PaymentAdjustment, adjust_payment
from orders.services._common import EMAIL_HANDLER, _actor_id, _transition, lock_order
from orders.services.change_plan import (
    ChangePlan,
    _holds_stock,
    _may_wait,
    _read_work,
    plan_change,
    preview_order_change,
    set_figures,
    warehouse_work,
)
from orders.services.lines import _move_on

CHANGED_EMAIL = "changed"


def change_order(*, order_id: int, data: OrderChange, actor: Actor) -> Order:
    """Apply `data` to the order atomically (see the module docstring);
    `data.version` must be the version its preview showed, or empty to
    apply to the order as it is (the API without a preview)."""
    with transaction.atomic(durable=True):
        return apply_order_change(order_id=order_id, data=data, actor=actor)


def apply_order_change(*, order_id: int, data: OrderChange, actor: Actor) -> Order:
    """`change_order` in the caller's transaction, for a service that decides
    something else with the change (an accepted address request)."""
    with transaction.atomic():
        order = lock_order(order_id=order_id, related=("customer",))
        work = _read_work(order.pk, lock=True)
        plan = plan_change(order, data, work=work, actor=actor, check_version=True)
        if plan.is_empty:
            raise ApplicationError(_("Nothing to change."), code="no_change")
        _apply(order, plan, actor=actor)
    return order


def _apply(order: Order, plan: ChangePlan, *, actor: Actor) -> None:
    changed_fields = ["updated_at"]
    for name, (_old, new) in plan.fields.items():
        setattr(order, name, new)
        changed_fields.append(name)
    waits = False
    if plan.lines_changed:
        _write_lines(order, plan)
        waits = _write_stock(order, plan, actor=actor)
        changed_fields += set_figures(order, plan.lines, plan.after, plan.charge)
    order.save(update_fields=changed_fields)
    _audit(order, plan, actor=actor)
    payment = adjust_payment(order=order, old_total=plan.before.gross,
                             new_total=plan.after.gross,
                             key=f"order:{order.pk}:change:{plan.version}", actor=actor)
    if payment.declined:
        raise ApplicationError(
            _("The payment for the higher total was declined: %(why)s Nothing was changed.")
            % {"why": payment.message}, field_errors={"payment": [payment.message]},
            code="payment_declined")
    event = order_events.order_changed(order, actor=actor, data=_event_data(order, plan,
                                                                            payment))
    outbox.enqueue(EMAIL_HANDLER, {"order_id": order.pk, "kind": CHANGED_EMAIL, "reason": "",
                                   "extra": {"event_id": event.pk, **event.data}},
                   dedup_key=f"orders:email:{order.pk}:changed:{event.pk}")
    if plan.lines_changed and order.holds_firm_stock:
        lines = list(order.lines.all())
        if waits and order.ships_complete and order.status == OrderStatus.RESERVED:
            _transition(order, "await_stock", actor=actor, refused_as=_("changed"),
                        data={"stock": "short", "changed": event.pk})
        else:
            _move_on(order, lines, actor=actor)


def _audit(order: Order, plan: ChangePlan, *, actor: Actor) -> None:
    """The change in the audit trail, in one INSERT: the order's fields and
    totals, and each line's units (a new line from 0)."""
    totals = ({"total_gross": (plan.before.gross, plan.after.gross)}
              if plan.lines_changed else {})
    rows = audit_log.build_entries(order, actor=actor, kind=audit_log.Kind.CHANGED,
                                   changes={**plan.fields, **totals})
    for p in plan.lines:
        if p.line is not None and p.before != p.after:
            rows += audit_log.build_entries(
                p.line, on=order, object_label=f"{order.number} · {p.sku}", actor=actor,
                kind=audit_log.Kind.CHANGED, changes={"quantity": (p.before, p.after)})
    audit_log.save_entries(rows)


def _write_lines(order: Order, plan: ChangePlan) -> None:
    position = max((p.line.position for p in plan.lines if p.line), default=0)
    new, existing = [], []
    for p in plan.lines:
        if p.line is None:
            position += 1
            assert p.product is not None
            p.line = OrderLine(order=order, position=position, product_id=p.product.id,
                               sku=p.sku, name=p.name, unit_price=p.unit_price,
                               tax_rate=p.tax_rate, quantity=p.after, line_net=p.line_net,
                               discount=p.discount, order_discount=p.order_discount,
                               available_from=(p.product.available_from if p.preorder
                                               else None))
            new.append(p.line)
            continue
        line = p.line
        line.unit_price, line.line_net = p.unit_price, p.line_net
        line.discount, line.order_discount = p.discount, p.order_discount
        line.backordered_quantity -= p.unwait
        if p.after:
            line.quantity = p.after + line.cancelled_quantity
        else:  # nothing more of it (nothing shipped): the row stays, every unit cancelled
            line.cancelled_quantity = line.quantity
        existing.append(line)
    # One UPDATE for every existing line (the order's discounts are shared again).
    OrderLine.objects.bulk_update(existing, ["unit_price", "line_net", "discount",
                                             "order_discount", "backordered_quantity",
                                             "quantity", "cancelled_quantity"])
    if new:
        snapshot_costs(order, new, [p.product for p in plan.lines if p.line in new
                                    and p.product is not None])
        OrderLine.objects.bulk_create(new)


def _write_stock(order: Order, plan: ChangePlan, *, actor: Actor) -> bool:
    """Release, unlist and reserve as planned; True when units now wait."""
    actor_id = _actor_id(actor)
    releases = {(p.line.pk, wh): q for p in plan.lines if p.line
                for wh, q in p.release.items() if q}
    if releases:
        inventory_api.release_units(order_id=order.pk, units=releases,
                                    reason="order changed", actor_id=actor_id)
    unlist = {(p.line.pk, wh): q for p in plan.lines if p.line for wh, q in p.unlist.items()}
    work = warehouse_work()
    if unlist and work is not None:
        work.shrink(order_id=order.pk, units=unlist)
    more = [p for p in plan.lines if p.delta > 0 and p.line is not None]
    waiting: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    if order.holds_firm_stock:
        reservable = [p for p in more if p.reserve]
        allocations = inventory_api.reserve_available(
            lines=[inventory_api.WaitingLine(order_id=order.pk, order_line_id=p.line.pk,
                                             product_id=p.line.product_id, quantity=p.reserve)
                   for p in reservable if p.line], actor_id=actor_id, reason="order changed")
        got: dict[int, int] = defaultdict(int)
        grown: dict[tuple[int, int], int] = defaultdict(int)
        for a in allocations:
            got[a.order_line_id] += a.quantity
            grown[(a.order_line_id, a.warehouse_id)] += a.quantity
        if grown and work is not None:
            work.grow(order_id=order.pk, units=dict(grown))
        for p in more:
            assert p.line is not None
            short = p.delta - got[p.line.pk]
            if short:
                waiting[p.line.pk] = short
                if not p.preorder and not _may_wait(order):
                    errors[f"lines.{p.index}.quantity"] = [
                        _("Only %(available)d of %(sku)s available.")
                        % {"available": got[p.line.pk], "sku": p.sku}]
    elif _holds_stock(order):
        requests = [inventory_api.LineRequest(order_line_id=p.line.pk,
                                              product_id=p.line.product_id, quantity=p.reserve)
                    for p in more if p.reserve and p.line]
        if requests:
            try:
                inventory_api.reserve(order_id=order.pk, lines=requests,
                                      expires_at=order.hold_expires_at, actor_id=actor_id)
            except inventory_api.InsufficientStock as exc:
                if not _may_wait(order):
                    shortages = {s.product_id: s for s in exc.shortages}
                    for p in more:
                        if p.line and p.line.product_id in shortages:
                            errors[f"lines.{p.index}.quantity"] = [
                                _("Only %(available)d of %(sku)s available.")
                                % {"available": shortages[p.line.product_id].available,
                                   "sku": p.sku}]
            else:
                # The new holds end with the order's own (none: until decided).
                inventory_api.set_hold_expiry(order_id=order.pk,
                                              expires_at=order.hold_expires_at,
                                              actor_id=actor_id)
    if errors:
        raise ApplicationError(_("Not enough stock for the change; nothing was saved."),
                               field_errors=errors, code="insufficient_stock")
    if waiting:
        for line_id, quantity in waiting.items():
            OrderLine.objects.filter(pk=line_id).update(
                backordered_quantity=F("backordered_quantity") + quantity)
    return bool(waiting)


def _event_data(order: Order, plan: ChangePlan, payment: PaymentAdjustment) -> dict:
    data: dict[str, Any] = {
        "lines": [{"line_id": p.line.pk if p.line else None, "sku": p.sku, "name": p.name,
                   "before": p.before, "after": p.after, "unit_price": str(p.unit_price)}
                  for p in plan.lines if p.changed],
        "fields": {name: {"before": _jsonable(old), "after": _jsonable(new)}
                   for name, (old, new) in plan.fields.items()},
    }
    if plan.lines_changed:
        data["totals"] = {"before": str(plan.before.gross), "after": str(plan.after.gross),
                          "tax_before": str(plan.before.tax), "tax_after": str(plan.after.tax),
                          "currency": order.currency}
    if payment.action != "none":
        data["payment"] = {"action": payment.action, "amount": payment.amount,
                           "currency": order.currency}
    return data


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def cancel_line_rest(*, order_id: int, line_id: int, actor: Actor, version: str = "") -> Order:
    """Cancel what is left of one line: every unit not yet picked, packed or
    shipped (reserved or waiting); stock, payment and the customer's e-mail
    follow as for any change."""
    plan = preview_order_change(order_id=order_id, data=OrderChange(), actor=actor)
    line = next((p for p in plan.lines if p.line and p.line.pk == line_id), None)
    if line is None:
        raise ApplicationError(_("This line does not belong to the order."),
                               field_errors={"line": [_("Unknown line.")]}, code="not_found")
    if line.before <= line.minimum:
        raise NotAllowed(_("%(sku)s: nothing of this line is left to cancel.")
                         % {"sku": line.sku}, code="nothing_left")
    return change_order(order_id=order_id, actor=actor, data=OrderChange(
        version=version or plan.version,
        lines=[LineChange(line=line_id, quantity=line.minimum)]))
