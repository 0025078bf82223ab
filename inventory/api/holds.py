"""Holds and firm reservations: reserve, confirm, release, and the sweep
that expires lapsed holds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.api.locks import lock_active_reservations, lower_levels
from inventory.api.types import InsufficientStock, LineRequest, ReservationInfo, Shortage
from inventory.models import Product, Reservation
from oms.lib.errors import ApplicationError, Conflict


def hold_minutes_default() -> int:
    return int(getattr(settings, "RESERVATION_HOLD_MINUTES", 60))


def reserve(*, order_id: int, lines: list[LineRequest], hold_minutes: int | None = None,
            expires_at: datetime | None = None,
            actor_id: int | None = None) -> list[ReservationInfo]:
    """Hold stock for every line of an order, all or nothing.

    Each line is served from one warehouse when one can serve it whole
    (preferring warehouses this order already uses, then the one with most
    available), else split over warehouses by descending availability.
    Raises InsufficientStock, writing nothing, if any line falls short.

    The hold lasts `hold_minutes` (default RESERVATION_HOLD_MINUTES), or
    until `expires_at` when the caller fixed it already. Three statements:
    the stock rows locked together with their products, the reservations
    inserted, the stock rows updated. No savepoint: every refusal is decided
    before the first write and raised once the block is left, so the
    caller's transaction stays usable (a backorder customer's order is
    placed without holds).
    """
    _check_quantities(lines)
    if expires_at is None:
        minutes = hold_minutes_default() if hold_minutes is None else hold_minutes
        if minutes <= 0:
            raise ApplicationError(_("The hold must last at least one minute."))
        expires_at = timezone.now() + timedelta(minutes=minutes)

    refusal: ApplicationError | None = None
    holds: list[ReservationInfo] = []
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        product_ids = sorted({line.product_id for line in lines})
        cursor.execute(_LOCK_FOR_HOLDS_SQL, {"products": product_ids})
        levels, products = [], {}
        for pk, product_id, warehouse_id, on_hand, reserved, sku, is_active in cursor:
            levels.append(_Level(pk, product_id, warehouse_id, on_hand, reserved))
            products[product_id] = _Product(sku, is_active)
        if len(products) < len(product_ids):  # unknown, or stocked nowhere active
            for pk, sku, is_active in Product.objects.filter(
                    pk__in=set(product_ids) - set(products)).values_list(
                    "pk", "sku", "is_active"):
                products[pk] = _Product(sku, is_active)
        refusal = _product_refusal(product_ids, products)
        if refusal is None:
            allocations, shortfall = _allocate(lines, levels)
            if shortfall:
                refusal = _shortage(lines, levels, products, shortfall)
            else:
                holds = _write_holds(cursor, order_id, allocations, expires_at=expires_at,
                                     actor_id=actor_id)
    if refusal is not None:
        raise refusal
    return holds


# The hot path of every placement, in SQL: the stock rows of the ordered
# products in active warehouses, locked in id order (the locking rule), with
# what the refusals need of their products; the holds inserted in one
# statement; the locked rows' `reserved` raised in one statement.
_LOCK_FOR_HOLDS_SQL = """
SELECT s.id, s.product_id, s.warehouse_id, s.on_hand, s.reserved, p.sku, p.is_active
  FROM inventory_stocklevel s
  JOIN inventory_product p ON p.id = s.product_id
  JOIN inventory_warehouse w ON w.id = s.warehouse_id
 WHERE s.product_id = ANY(%(products)s) AND w.is_active
 ORDER BY s.id
   FOR UPDATE OF s
"""

_INSERT_HOLDS_SQL = """
INSERT INTO inventory_reservation (order_id, order_line_id, product_id, warehouse_id, quantity,
                                   kind, status, expires_at, created_at, updated_at,
                                   status_reason, actor_id)
SELECT %(order)s, h.line, h.product, h.warehouse, h.quantity, 'hold', 'active', %(expires)s,
       %(now)s, %(now)s, '', %(actor)s
  FROM unnest(%(lines)s::bigint[], %(products)s::bigint[], %(warehouses)s::bigint[],
              %(quantities)s::integer[]) AS h(line, product, warehouse, quantity)
"""

_ADD_RESERVED_SQL = """
UPDATE inventory_stocklevel s
   SET reserved = s.reserved + added.quantity, updated_at = %(now)s
  FROM unnest(%(ids)s::bigint[], %(quantities)s::integer[]) AS added(id, quantity)
 WHERE s.id = added.id
"""


@dataclass(slots=True)
class _Level:
    pk: int
    product_id: int
    warehouse_id: int
    on_hand: int
    reserved: int


@dataclass(frozen=True, slots=True)
class _Product:
    sku: str
    is_active: bool


def _check_quantities(lines: list[LineRequest]) -> None:
    if not lines:
        raise ApplicationError(_("An order needs at least one line to reserve."),
                               field_errors={"lines": [_("Add at least one line.")]})
    for line in lines:
        if (not isinstance(line.quantity, int) or isinstance(line.quantity, bool)
                or line.quantity <= 0):
            raise ApplicationError(
                _("Quantities must be positive whole numbers."),
                field_errors={"quantity": [_("Enter a whole number greater than zero.")]})


def _product_refusal(product_ids: list[int], products: dict[int, _Product]
                     ) -> ApplicationError | None:
    if set(product_ids) - set(products):
        return ApplicationError(_("Unknown product."),
                                field_errors={"product": [_("This product does not exist.")]})
    inactive = [p.sku for p in products.values() if not p.is_active]
    if inactive:
        return ApplicationError(
            _("Product %(sku)s is not sold any more.") % {"sku": ", ".join(sorted(inactive))},
            field_errors={"product": [_("This product is inactive.")]})
    return None


def _allocate(lines: list[LineRequest], levels: list[_Level]
              ) -> tuple[list[tuple[LineRequest, _Level, int]], dict[int, int]]:
    """Which stock level serves how much of each line; and what is short."""
    by_product: dict[int, list[_Level]] = defaultdict(list)
    for level in levels:
        by_product[level.product_id].append(level)
    available = {level.pk: level.on_hand - level.reserved for level in levels}
    used_warehouses: set[int] = set()
    allocations: list[tuple[LineRequest, _Level, int]] = []
    shortfall: dict[int, int] = defaultdict(int)
    for line in lines:
        candidates = by_product.get(line.product_id, [])
        whole = [lv for lv in candidates if available[lv.pk] >= line.quantity]
        if whole:
            best = min(whole, key=lambda lv: (lv.warehouse_id not in used_warehouses,
                                              -available[lv.pk], lv.pk))
            picks = [(best, line.quantity)]
        else:
            picks, remaining = [], line.quantity
            for lv in sorted(candidates, key=lambda lv: (-available[lv.pk], lv.pk)):
                if remaining == 0:
                    break
                take = min(remaining, available[lv.pk])
                if take > 0:
                    picks.append((lv, take))
                    remaining -= take
            if remaining:
                shortfall[line.product_id] += remaining
                continue
        for level, quantity in picks:
            available[level.pk] -= quantity
            used_warehouses.add(level.warehouse_id)
            allocations.append((line, level, quantity))
    return allocations, shortfall


def _shortage(lines: list[LineRequest], levels: list[_Level],
              products: dict[int, _Product], shortfall: dict[int, int]) -> InsufficientStock:
    requested: dict[int, int] = defaultdict(int)
    for line in lines:
        requested[line.product_id] += line.quantity
    return InsufficientStock([
        Shortage(product_id=pid, sku=products[pid].sku, requested=requested[pid],
                 available=sum(max(lv.on_hand - lv.reserved, 0)
                               for lv in levels if lv.product_id == pid))
        for pid in sorted(shortfall)
    ])


def _write_holds(cursor: CursorWrapper, order_id: int,
                 allocations: list[tuple[LineRequest, _Level, int]], *,
                 expires_at: datetime, actor_id: int | None) -> list[ReservationInfo]:
    now = timezone.now()
    cursor.execute(_INSERT_HOLDS_SQL, {
        "order": order_id, "expires": expires_at, "now": now, "actor": actor_id,
        "lines": [line.order_line_id for line, _level, _q in allocations],
        "products": [line.product_id for line, _level, _q in allocations],
        "warehouses": [level.warehouse_id for _line, level, _q in allocations],
        "quantities": [quantity for _line, _level, quantity in allocations]})
    added: dict[int, int] = defaultdict(int)
    for _line, level, quantity in allocations:
        added[level.pk] += quantity
    level_ids = sorted(added)
    cursor.execute(_ADD_RESERVED_SQL, {"ids": level_ids, "now": now,
                                       "quantities": [added[pk] for pk in level_ids]})
    return [ReservationInfo(order_line_id=line.order_line_id, product_id=line.product_id,
                            warehouse_id=level.warehouse_id, quantity=quantity,
                            kind=Reservation.Kind.HOLD.value, expires_at=expires_at)
            for line, level, quantity in allocations]


_CONFIRM_COVERED_SQL = """
WITH active AS (
    SELECT id, order_line_id, quantity FROM inventory_reservation
     WHERE order_id = %(order)s AND status = 'active'
     ORDER BY id
       FOR UPDATE
), covered AS (
    SELECT bool_and(coalesce(held.quantity, 0) >= wanted.quantity) AS ok
      FROM unnest(%(lines)s::bigint[], %(quantities)s::bigint[]) AS wanted(line, quantity)
      LEFT JOIN (SELECT order_line_id, sum(quantity) AS quantity FROM active
                  GROUP BY order_line_id) AS held ON held.order_line_id = wanted.line
)
UPDATE inventory_reservation r
   SET kind = 'firm', expires_at = NULL, actor_id = %(actor)s, updated_at = %(now)s
  FROM active, covered
 WHERE r.id = active.id AND covered.ok
RETURNING r.id
"""


def confirm(*, order_id: int, actor_id: int | None = None,
            required: dict[int, int] | None = None) -> bool:
    """Turn the order's active holds into firm reservations (no expiry).

    A hold past its expiry that the sweep has not reached yet is still
    confirmed: whichever of approval and sweep locks the row first wins.

    With `required` (order line id -> quantity): one statement that firms
    the order's active reservations only if they cover every line, and
    returns whether they did (False changes nothing; the caller reserves
    afresh). Without it: raises Conflict when the order's holds have
    already lapsed.
    """
    if required is not None:
        lines = sorted(required)
        with connection.cursor() as cursor:
            cursor.execute(_CONFIRM_COVERED_SQL, {
                "order": order_id, "lines": lines,
                "quantities": [required[line] for line in lines],
                "actor": actor_id, "now": timezone.now()})
            return bool(cursor.fetchall())
    with transaction.atomic():
        active = lock_active_reservations(order_id)
        if not active and Reservation.objects.filter(
                order_id=order_id, status=Reservation.Status.EXPIRED).exists():
            raise Conflict(_("The stock hold of this order has lapsed."), code="hold_lapsed")
        holds = [r.pk for r in active if r.kind == Reservation.Kind.HOLD]
        if holds:
            Reservation.objects.filter(pk__in=holds).update(
                kind=Reservation.Kind.FIRM, expires_at=None, actor_id=actor_id,
                updated_at=timezone.now())
    return True


def set_hold_expiry(*, order_id: int, expires_at: datetime | None,
                    actor_id: int | None = None) -> int:
    """Move the expiry of the order's active holds (None: until the order is
    decided); returns how many. Firm reservations are left alone."""
    with transaction.atomic():
        active = lock_active_reservations(order_id)
        holds = [r.pk for r in active if r.kind == Reservation.Kind.HOLD]
        if holds:
            Reservation.objects.filter(pk__in=holds).update(
                expires_at=expires_at, actor_id=actor_id, updated_at=timezone.now())
        return len(holds)


def _decrement(reservations: list[Reservation], *, on_hand_too: bool) -> None:
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for r in reservations:
        totals[(r.product_id, r.warehouse_id)] += r.quantity
    lower_levels(reserved=totals, on_hand=totals if on_hand_too else {})


def release(*, order_id: int, reason: str, actor_id: int | None = None) -> int:
    """Give back every active reservation of the order; returns how many."""
    with transaction.atomic():
        active = lock_active_reservations(order_id)
        if not active:
            return 0
        Reservation.objects.filter(pk__in=[r.pk for r in active]).update(
            status=Reservation.Status.RELEASED, status_reason=reason[:200], actor_id=actor_id,
            updated_at=timezone.now())
        _decrement(active, on_hand_too=False)
        return len(active)


def release_units(*, order_id: int, units: dict[tuple[int, int | None], int], reason: str,
                  actor_id: int | None = None) -> dict[int, int]:
    """Give back part of an order's active reservations: `units` maps
    (order line id, warehouse id or None for any) to how many. The newest
    reservation gives first; one cut in two keeps its part active and writes
    the released part as its own row. Never takes more than a line holds
    there; returns the units released per line."""
    with transaction.atomic():
        active = lock_active_reservations(order_id)
        left = {key: quantity for key, quantity in units.items() if quantity > 0}
        now = timezone.now()
        freed: dict[tuple[int, int], int] = defaultdict(int)
        released: dict[int, int] = defaultdict(int)
        for r in reversed(active):
            key = next((k for k in ((r.order_line_id, r.warehouse_id), (r.order_line_id, None))
                        if left.get(k)), None)
            if key is None:
                continue
            take = min(left[key], r.quantity)
            left[key] -= take
            released[r.order_line_id] += take
            freed[(r.product_id, r.warehouse_id)] += take
            if take == r.quantity:
                Reservation.objects.filter(pk=r.pk).update(
                    status=Reservation.Status.RELEASED, status_reason=reason[:200],
                    actor_id=actor_id, updated_at=now)
            else:
                Reservation.objects.filter(pk=r.pk).update(quantity=r.quantity - take,
                                                           updated_at=now)
                Reservation.objects.create(
                    order_id=r.order_id, order_line_id=r.order_line_id,
                    product_id=r.product_id, warehouse_id=r.warehouse_id, quantity=take,
                    kind=r.kind, expires_at=r.expires_at, status=Reservation.Status.RELEASED,
                    status_reason=reason[:200], actor_id=actor_id)
        lower_levels(reserved=freed, on_hand={})
    return dict(released)


# One statement: pick the lapsed holds (skipping rows another transaction is
# confirming or releasing), mark them expired, lock their stock levels in
# primary-key order, decrement reserved, and return the affected orders.
_EXPIRE_SQL = """
WITH lapsed AS (
    UPDATE inventory_reservation r
       SET status = 'expired', status_reason = 'hold lapsed', updated_at = %(now)s,
           actor_id = NULL
     WHERE r.id IN (
         SELECT id FROM inventory_reservation
          WHERE status = 'active' AND kind = 'hold' AND expires_at <= %(now)s
          ORDER BY expires_at, id
          {limit}
          FOR UPDATE SKIP LOCKED)
 RETURNING r.order_id, r.product_id, r.warehouse_id, r.quantity
), per_level AS (
    SELECT product_id, warehouse_id, SUM(quantity) AS quantity
      FROM lapsed GROUP BY product_id, warehouse_id
), locked AS (
    SELECT s.id, p.quantity
      FROM inventory_stocklevel s
      JOIN per_level p ON p.product_id = s.product_id AND p.warehouse_id = s.warehouse_id
     ORDER BY s.id
       FOR UPDATE OF s
), decremented AS (
    UPDATE inventory_stocklevel s
       SET reserved = s.reserved - locked.quantity, updated_at = %(now)s
      FROM locked
     WHERE s.id = locked.id
 RETURNING s.id
)
SELECT DISTINCT order_id FROM lapsed ORDER BY order_id
"""


def expire_lapsed_holds(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Expire every active hold whose expiry has passed, in one SQL statement.

    Returns the distinct order ids whose holds lapsed, so the caller can move
    those orders to 'expired'. `limit` caps the number of reservations per call.
    """
    now = now or timezone.now()
    params: dict = {"now": now}
    limit_sql = ""
    if limit is not None:
        limit_sql = "LIMIT %(limit)s"
        params["limit"] = int(limit)
    with connection.cursor() as cursor:
        cursor.execute(_EXPIRE_SQL.format(limit=limit_sql), params)
        return [row[0] for row in cursor.fetchall()]
