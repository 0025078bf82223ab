"""The plan of a change of an order before shipment: what `change_order`
(orders.services.changes) will do, computed without writing, so the edit
screen's preview and the change itself run the same code and cannot
disagree.

`plan_change` reads the order, its lines, its reservations and what the
warehouse has picked or listed (through the `WarehouseWork` fulfillment
registers at start-up, so orders never imports fulfillment), and computes
per line where fewer units come from (the waiting rest, then reservations
not on a pick list, then open pick lines; never picked, packed or shipped
units) and how many more to reserve; the prices from the order's price
lists on the order's date; the discounts, the shipping charge and the
totals; and what the payment provider will be asked. Its `version` is a
fingerprint of what it read: a change prepared on another version is
refused.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from inventory import api as inventory_api
from inventory.models import Reservation
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, Conflict, NotAllowed
from oms.lib.money import ZERO, quantize_money
from orders import discounts as order_discounts
from orders import shipping
from orders.holds import releases_stock
from orders.inputs import MAX_QUANTITY, LineChange, OrderChange
from orders.models import CHANGE_FIELDS, Order, OrderLine, OrderStatus
from orders.payments import PaymentAdjustment, adjust_payment
from orders.pricing import LineToPrice, no_price_error, price_lines
from orders.services._common import _refuse
from orders.taxes import decide_for_order, with_rates
from orders.totals import PricedLine, Totals, compute_totals

CHANGED_EMAIL = "changed"


# --- what the warehouse has done with the order (filled in by fulfillment) -------

@dataclass(frozen=True)
class LineWork:
    """An order line's units in one warehouse's hands."""

    picked: int = 0  # picked or packed, not shipped: a change never takes them back
    listed: int = 0  # on an open pick list, not picked yet
    # (id, number) of the pick lists holding picked units not packed yet: an
    # unpick there puts them back on the shelf, and the line may then shrink.
    unpick_from: tuple[tuple[int, str], ...] = ()


class WarehouseWork(Protocol):
    """What fulfillment registers (`register_warehouse_work`) so the change
    keeps pick lists in step without `orders` importing fulfillment. Every
    method runs inside the change's transaction, after the order row lock."""

    def read(self, *, order_id: int, lock: bool) -> dict[tuple[int, int], LineWork]:
        """(order line id, warehouse id) -> its work; `lock`: lock the order's
        open pick lists first (a pick waits for the change, or the change sees
        the pick)."""

    def shrink(self, *, order_id: int, units: dict[tuple[int, int], int]) -> None:
        """Take units off the open (unpicked) pick lines of (line, warehouse)."""

    def grow(self, *, order_id: int, units: dict[tuple[int, int], int]) -> None:
        """Units newly reserved for (line, warehouse): onto an open pick list
        of that warehouse when the order is on one there."""


_warehouse_work: WarehouseWork | None = None


def register_warehouse_work(work: WarehouseWork | None) -> None:
    global _warehouse_work
    _warehouse_work = work


def warehouse_work() -> WarehouseWork | None:
    """The registered warehouse side (None: orders without fulfillment)."""
    return _warehouse_work


def _read_work(order_id: int, *, lock: bool) -> dict[tuple[int, int], LineWork]:
    return _warehouse_work.read(order_id=order_id, lock=lock) if _warehouse_work else {}


# --- the plan --------------------------------------------------------------------

@dataclass
class LinePlan:
    """One line before and after the change, with its stock effect."""

    sku: str
    name: str
    before: int  # units ordered (less cancelled)
    after: int
    unit_price: Decimal
    tax_rate: Decimal
    line: OrderLine | None = None  # None: a new line
    index: int | None = None  # its place in the change's `lines` (field errors)
    product: inventory_api.ProductInfo | None = None
    shipped: int = 0
    picked: int = 0
    # (id, number) of the pick lists where picked units can be put back
    unpick_from: tuple[tuple[int, str], ...] = ()
    reserved: int = 0
    waiting: int = 0
    available: int = 0  # free stock of the product now
    preorder: bool = False
    # The effect: units off the waiting rest, released per warehouse (None:
    # any), taken off open pick lines; units to reserve, and of them those
    # expected to wait.
    unwait: int = 0
    release: dict[int | None, int] = field(default_factory=dict)
    unlist: dict[int, int] = field(default_factory=dict)
    reserve: int = 0
    will_wait: int = 0
    line_net: Decimal = ZERO
    discount: Decimal = ZERO
    order_discount: Decimal = ZERO

    @property
    def delta(self) -> int:
        return self.after - self.before

    @property
    def minimum(self) -> int:
        """What the line cannot go below: shipped, picked or packed units."""
        return self.shipped + self.picked

    @property
    def changed(self) -> bool:
        return self.line is None or self.delta != 0 or (
            self.unit_price != self.line.unit_price)

    @property
    def released(self) -> int:
        return sum(self.release.values())


@dataclass
class ChangePlan:
    order: Order
    version: str
    lines: list[LinePlan]
    fields: dict[str, tuple[Any, Any]]
    before: Totals
    after: Totals
    payment: PaymentAdjustment
    lines_changed: bool
    backorders_allowed: bool = False
    # The shipping charge after the change (when its lines change).
    charge: shipping.Charge | None = None

    @property
    def gross_delta(self) -> Decimal:
        return self.after.gross - self.before.gross

    @property
    def tax_delta(self) -> Decimal:
        return self.after.tax - self.before.tax

    @property
    def net_delta(self) -> Decimal:
        return self.after.net - self.before.net

    @property
    def is_empty(self) -> bool:
        return not self.fields and not any(line.changed for line in self.lines)


def _version(order: Order, lines: list[OrderLine],
             work: dict[tuple[int, int], LineWork]) -> str:
    """A fingerprint of everything a change depends on: any write to the
    order row (a transition, another edit), its lines (a short pick, an
    allocation) or the warehouse's picks changes it."""
    state = [order.updated_at.isoformat(), order.status,
             [(li.pk, li.quantity, li.backordered_quantity, li.cancelled_quantity)
              for li in lines],
             sorted((key[0], key[1], w.picked, w.listed) for key, w in work.items())]
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()[:32]


def _reservations(order_id: int) -> tuple[dict[tuple[int, int], int], dict[int, int]]:
    """Active units per (line, warehouse) and shipped units per line."""
    active: dict[tuple[int, int], int] = defaultdict(int)
    shipped: dict[int, int] = defaultdict(int)
    for line_id, warehouse_id, status, quantity in Reservation.objects.filter(
            order_id=order_id, status__in=[Reservation.Status.ACTIVE,
                                           Reservation.Status.CONSUMED]).values_list(
            "order_line_id", "warehouse_id", "status", "quantity"):
        if status == Reservation.Status.ACTIVE:
            active[(line_id, warehouse_id)] += quantity
        else:
            shipped[line_id] += quantity
    return active, shipped


def _may_wait(order: Order) -> bool:
    """The order's backorder rule: units stock cannot cover may wait."""
    return order.customer.accepts_backorder and not order.account_unverified


def _holds_stock(order: Order) -> bool:
    """Before approval the order holds stock, unless its hold gave it back."""
    return not (order.is_on_hold and releases_stock(order.hold_reason))


def plan_change(order: Order, data: OrderChange, *, work: dict[tuple[int, int], LineWork],
                actor: Actor, check_version: bool = False) -> ChangePlan:
    """Every effect of `data` on `order` (read as it is now); raises
    ApplicationError with field errors keyed like the input (`lines.0.quantity`).
    `check_version`: refuse (Conflict) a `data.version` other than the order's."""
    if not order.is_editable:
        if order.status in (OrderStatus.SHIPPED, OrderStatus.INVOICED, OrderStatus.PAID):
            raise NotAllowed(
                _("Order %(number)s has shipped: changes are a return or a supplementary "
                  "invoice now.") % {"number": order.number}, code="shipped")
        raise _refuse(order, _("changed"))
    lines = list(order.lines.order_by("position"))
    version = _version(order, lines, work)
    if check_version and data.version and data.version != version:
        raise Conflict(
            _("Order %(number)s changed while you were editing it (picked, packed, "
              "shipped or edited by someone else). Review the effect again and save.")
            % {"number": order.number}, code="stale_change")
    active, shipped = _reservations(order.pk)
    by_id = {line.pk: line for line in lines}
    errors: dict[str, list[str]] = {}
    plans: dict[int, LinePlan] = {}
    for line in lines:
        ordered = line.quantity - line.cancelled_quantity
        plans[line.pk] = LinePlan(
            line=line, sku=line.sku, name=line.name, before=ordered, after=ordered,
            unit_price=line.unit_price, tax_rate=line.tax_rate, shipped=shipped[line.pk],
            picked=sum(w.picked for (lid, _w), w in work.items() if lid == line.pk),
            unpick_from=tuple(sorted({pick_list for (lid, _w), w in work.items()
                                      if lid == line.pk for pick_list in w.unpick_from})),
            reserved=sum(q for (lid, _w), q in active.items() if lid == line.pk),
            waiting=line.backordered_quantity, preorder=line.is_preorder,
            line_net=line.line_net, discount=line.discount,
            order_discount=line.order_discount)
    new: list[tuple[int, LineChange]] = []
    seen: set[int] = set()
    for index, change in enumerate(data.lines):
        if change.line is None:
            if not change.sku:
                errors[f"lines.{index}.sku"] = [_("Enter a SKU.")]
            elif change.quantity == 0:
                errors[f"lines.{index}.quantity"] = [
                    _("Enter a whole number from 1 to %(max)d.") % {"max": MAX_QUANTITY}]
            else:
                new.append((index, change))
            continue
        if change.line not in by_id:
            errors[f"lines.{index}.line"] = [_("This line does not belong to the order.")]
            continue
        if change.line in seen:
            errors[f"lines.{index}.line"] = [_("This line is named twice.")]
            continue
        seen.add(change.line)
        plan = plans[change.line]
        plan.index = index
        plan.after = change.quantity
        if plan.after < plan.minimum:
            errors[f"lines.{index}.quantity"] = [_below_minimum(plan)]
    new_plans = _new_lines(order, new, errors)
    all_plans = list(plans.values()) + new_plans
    lines_changed = any(p.changed for p in all_plans)
    if lines_changed and not any(p.after for p in all_plans) and not any(
            p.shipped for p in all_plans):
        errors["lines"] = [_("Every line would be removed: cancel the order instead.")]
    fields = _field_changes(order, data, errors, all_plans)
    if errors:
        raise ApplicationError(_("The change has errors; nothing was saved."),
                               field_errors=errors)
    before = _totals_now(order)
    if lines_changed:
        _reprice(order, all_plans)
        _stock_effect(order, all_plans, active, work)
        short = {f"lines.{p.index}.quantity": [
            _("Only %(available)d of %(sku)s available.") % {"available": p.available,
                                                             "sku": p.sku}]
            for p in all_plans if p.will_wait and not p.preorder}
        if short and not _may_wait(order):  # the backorder rule: refused
            raise ApplicationError(_("Not enough stock for the change; nothing was saved."),
                                   field_errors=short, code="insufficient_stock")
    after, charge = _totals_after(order, all_plans) if lines_changed else (before, None)
    payment = adjust_payment(order=order, old_total=before.gross, new_total=after.gross,
                             key=f"order:{order.pk}:change:{version}", actor=actor,
                             dry_run=True)
    if payment.declined:
        raise ApplicationError(
            _("The payment for the higher total was declined: %(why)s Nothing was changed.")
            % {"why": payment.message}, field_errors={"payment": [payment.message]},
            code="payment_declined")
    return ChangePlan(order=order, version=version, lines=all_plans, fields=fields,
                      before=before, after=after, payment=payment,
                      lines_changed=lines_changed, backorders_allowed=_may_wait(order),
                      charge=charge)


def _below_minimum(plan: LinePlan) -> str:
    """Why the line cannot go that low, and what the warehouse must do first
    when picked units could go back to the shelf."""
    text = (_("%(sku)s: %(n)d units are picked, packed or shipped; the line cannot go "
              "below %(n)d.") % {"sku": plan.sku, "n": plan.minimum})
    if plan.after < plan.shipped or not plan.unpick_from:
        return text
    return text + " " + _("Unpick the picked units on the pick list first (%(lists)s), "
                          "then change the line.") % {
        "lists": ", ".join(number for _pk, number in plan.unpick_from)}


def _new_lines(order: Order, new: list[tuple[int, LineChange]],
               errors: dict[str, list[str]]) -> list[LinePlan]:
    if not new:
        return []
    products = inventory_api.products_by_sku(skus=[change.sku for _i, change in new])
    today = timezone.localdate()
    plans = []
    for index, change in new:
        product = products.get(change.sku)
        if product is None:
            errors[f"lines.{index}.sku"] = [_("Unknown SKU %(sku)s.") % {"sku": change.sku}]
        elif not product.is_active:
            errors[f"lines.{index}.sku"] = [
                _("Product %(sku)s is no longer sold.") % {"sku": change.sku}]
        else:
            plans.append(LinePlan(sku=product.sku, name=product.name, before=0,
                                  after=change.quantity, unit_price=product.unit_price,
                                  tax_rate=product.tax_rate, index=index, product=product,
                                  preorder=product.is_preorder_on(today)))
    if plans:
        # The rate of the order's VAT decision (read again; the order keeps its own).
        decision = decide_for_order(copy.copy(order), {p.product.tax_category
                                                       for p in plans if p.product})
        for plan, (product, _q) in zip(plans, with_rates(
                [(p.product, p.after) for p in plans if p.product], decision), strict=True):
            plan.tax_rate = product.tax_rate
    return plans


def _product_id(plan: LinePlan) -> int:
    if plan.line is not None:
        return plan.line.product_id
    assert plan.product is not None
    return plan.product.id


def _order_date(order: Order) -> date:
    """Prices are those of the day the order was placed."""
    return timezone.localdate(order.placed_at) if order.placed_at else timezone.localdate()


def _reprice(order: Order, plans: list[LinePlan]) -> None:
    """Unit prices of new lines and of lines whose quantity changes, from the
    order's price lists on its date (quantity breaks apply); the discounts
    again on the new figures: a line's own (its percent, or its amount at
    most the line), and the order's (its percent, or its amount, and the
    code's amount) shared over the lines by value."""
    priced = [p for p in plans if p.after and (p.line is None or p.delta)]
    prices = price_lines(customer=order.customer, currency=order.currency,
                         on_date=_order_date(order),
                         lines=[LineToPrice(product_id=_product_id(p), quantity=p.after)
                                for p in priced])
    errors = {}
    for plan, price in zip(priced, prices, strict=True):
        if price is None:
            errors[f"lines.{plan.index}.sku"] = [no_price_error(sku=plan.sku,
                                                                currency=order.currency)]
        else:
            plan.unit_price = price.unit_price
    if errors:
        raise ApplicationError(_("The change has errors; nothing was saved."),
                               field_errors=errors)
    list_nets = []
    for plan in plans:
        list_net = quantize_money(plan.unit_price * plan.after, order.currency)
        own = ZERO
        if plan.line is not None and plan.after:
            spec = order_discounts.Discount(percent=plan.line.discount_percent,
                                            amount=plan.line.discount)
            own = min(spec.off(list_net), list_net)
        plan.discount = own
        list_nets.append(list_net - own)
    goods = sum(list_nets, ZERO)
    order_off = (quantize_money(goods * order.discount_percent / Decimal(100), order.currency)
                 if order.discount_percent is not None else order.discount_amount)
    shared = min(order_off + order.code_discount, goods)
    for plan, net, share in zip(plans, list_nets, order_discounts.allocate(shared, list_nets),
                                strict=True):
        plan.order_discount = share
        plan.line_net = net - share


def _priced(order: Order, plans: list[LinePlan]) -> list[PricedLine]:
    return [PricedLine(unit_price=p.unit_price, tax_rate=p.tax_rate, quantity=p.after,
                       discount=p.discount + p.order_discount, currency=order.currency)
            for p in plans if p.after]


def _totals_now(order: Order) -> Totals:
    """The order's totals as they stand (its own figures)."""
    return Totals(net=order.total_net, tax=order.total_tax, gross=order.total_gross)


def _charge(order: Order, plans: list[LinePlan], goods: list[PricedLine]) -> shipping.Charge:
    if not goods:  # nothing left to deliver (its rest cancelled): nothing to charge
        return shipping.NO_CHARGE
    skus = [p.sku for p in plans if p.after and p.product is None]
    products = inventory_api.products_by_sku(skus=skus) if skus else {}
    weight = sum(((p.product or products[p.sku]).weight_kg * p.after
                  for p in plans if p.after and (p.product or p.sku in products)), Decimal(0))
    return shipping.shipping_charge(currency=order.currency,
                                    country=str(order.shipping_address.get("country", "")),
                                    weight_kg=weight, goods=goods)


def _totals_after(order: Order, plans: list[LinePlan]) -> tuple[Totals, shipping.Charge]:
    goods = _priced(order, plans)
    charge = _charge(order, plans, goods)
    return compute_totals(goods + [charge.priced()] if charge.label else goods), charge


def figures_without(order: Order, lines: list[OrderLine], *, fewer: dict[int, int]
                    ) -> tuple[list[LinePlan], Totals, shipping.Charge]:
    """The lines and totals once `fewer` units (per line id) of `lines` (all
    the order's) are gone: priced, discounted and charged for shipping
    exactly as a change removing those units is (`_reprice`, `_totals_after`)."""
    plans = []
    for index, line in enumerate(lines):
        ordered = line.quantity - line.cancelled_quantity
        plans.append(LinePlan(line=line, sku=line.sku, name=line.name, before=ordered,
                              after=ordered - fewer.get(line.pk, 0), index=index,
                              unit_price=line.unit_price, tax_rate=line.tax_rate,
                              line_net=line.line_net, discount=line.discount,
                              order_discount=line.order_discount))
    _reprice(order, plans)
    return plans, *_totals_after(order, plans)


def set_figures(order: Order, plans: list[LinePlan], totals: Totals,
                charge: shipping.Charge | None = None) -> list[str]:
    """Put the planned prices and discounts on the lines (not saved) and the
    shipping charge and totals on the order (not saved); the order's changed
    field names. `charge`: the one the plan priced (else priced here)."""
    for plan in plans:
        if plan.line is not None:
            plan.line.unit_price, plan.line.line_net = plan.unit_price, plan.line_net
            plan.line.discount, plan.line.order_discount = plan.discount, plan.order_discount
    if charge is None:
        charge = _charge(order, plans, _priced(order, plans))
    order.shipping_label, order.shipping_net, order.shipping_tax_rate = (
        charge.label, charge.net, charge.tax_rate)
    order.total_net, order.total_tax, order.total_gross = totals.net, totals.tax, totals.gross
    order.discount_total = sum((p.discount + p.order_discount for p in plans), ZERO)
    return ["shipping_label", "shipping_net", "shipping_tax_rate", "total_net", "total_tax",
            "total_gross", "discount_total"]


def _stock_effect(order: Order, plans: list[LinePlan], active: dict[tuple[int, int], int],
                  work: dict[tuple[int, int], LineWork]) -> None:
    """Per line: where fewer units come from, and how many more to reserve."""
    holds = not order.holds_firm_stock
    product_ids = [_product_id(p) for p in plans if p.delta > 0]
    free = {pid: sum(w.available for w in levels) for pid, levels in
            inventory_api.availability(product_ids=product_ids).items()}
    for plan in plans:
        if plan.delta > 0:
            pid = _product_id(plan)
            plan.available = max(free.get(pid, 0), 0)
            if plan.preorder:  # waits for its release date, holds nothing
                plan.will_wait = plan.delta
                continue
            if holds and not _holds_stock(order):  # approval reserves it
                continue
            plan.reserve = plan.delta
            plan.will_wait = max(plan.delta - plan.available, 0)
            free[pid] = plan.available - (plan.delta - plan.will_wait)
            continue
        less = -plan.delta
        if not less or plan.line is None:
            continue
        plan.unwait = min(less, plan.waiting)
        less -= plan.unwait
        if holds:
            if less:
                plan.release = {None: less}
            continue
        # Units not on a pick list first, then open pick lines; never picked ones.
        here = sorted({wh for (lid, wh) in active if lid == plan.line.pk}
                      | {wh for (lid, wh) in work if lid == plan.line.pk})
        for wh in here:
            w = work.get((plan.line.pk, wh), LineWork())
            take = min(less, max(active.get((plan.line.pk, wh), 0) - w.picked - w.listed, 0))
            if take:
                plan.release[wh] = take
                less -= take
        for wh in here:
            w = work.get((plan.line.pk, wh), LineWork())
            take = min(less, w.listed)
            if take:
                plan.release[wh] = plan.release.get(wh, 0) + take
                plan.unlist[wh] = take
                less -= take
        if less:  # only picked units are left: refused above by `minimum`
            raise Conflict(_("%(sku)s: the units are already picked.") % {"sku": plan.sku},
                           code="picked")


_ADDRESS_FIELDS = ("shipping_address", "billing_address")


def _field_changes(order: Order, data: OrderChange, errors: dict[str, list[str]],
                   plans: list[LinePlan]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for name in CHANGE_FIELDS:
        if not data.given(name):
            continue
        value = getattr(data, name)
        current = getattr(order, name)
        if name in _ADDRESS_FIELDS:
            if value is None:
                continue
            # The snapshot may hold more than the input names (kept as it is).
            entered = value.model_dump()
            if all(str(current.get(key) or "") == str(entered[key] or "") for key in entered):
                continue
            value = {**current, **entered}
        elif name in ("requested_carrier", "notes"):
            value = value or ""
        if value != current:
            changes[name] = (current, value)
    if "shipping_address" in changes:
        old, new = changes["shipping_address"]
        if str(old.get("country", "")).upper() != str(new.get("country", "")).upper():
            errors["shipping_address.country"] = [
                _("Another country changes the VAT of the order: cancel it and place a new "
                  "one.")]
    promised = changes.get("promised_delivery_date", (None, None))[1]
    if promised is not None:
        today = timezone.localdate()
        for plan in plans:
            release = (plan.line.available_from if plan.line else
                       plan.product.available_from if plan.product else None)
            if plan.after and release and release > promised and release > today:
                errors["promised_delivery_date"] = [
                    _("%(sku)s is a pre-order, available from %(date)s: promise that date or "
                      "later.") % {"sku": plan.sku, "date": date_format(release, "DATE_FORMAT")}]
                break
    return changes


def preview_order_change(*, order_id: int, data: OrderChange, actor: Actor) -> ChangePlan:
    """What `change_order` would do with `data` now, writing nothing (the
    edit screen's preview); its `version` is what the change must name."""
    with transaction.atomic():
        order = Order.objects.select_related("customer").filter(pk=order_id).first()
        if order is None:
            raise ApplicationError(_("Order not found."), code="not_found")
        return plan_change(order, data, work=_read_work(order.pk, lock=False), actor=actor)
