"""Line-level allocation: firm reservations for as much of each waiting
line as the active warehouses have now, for many orders in one pass.

The caller decides the order in which lines are served (first come first
served); this module only says which warehouse gives how much. Four
statements whatever the number of lines: the stock rows locked in
primary-key order, the reservations inserted, the stock rows raised, and
nothing written when nothing is available.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

_LOCK_LEVELS_SQL = """
SELECT s.id, s.product_id, s.warehouse_id, s.on_hand - s.reserved
  FROM inventory_stocklevel s
  JOIN inventory_warehouse w ON w.id = s.warehouse_id
 WHERE s.product_id = ANY(%(products)s) AND w.is_active
   AND NOT (s.warehouse_id = ANY(%(excluded)s))
 ORDER BY s.id
   FOR UPDATE OF s
"""

_INSERT_FIRM_SQL = """
INSERT INTO inventory_reservation (order_id, order_line_id, product_id, warehouse_id, quantity,
                                   kind, status, expires_at, created_at, updated_at,
                                   status_reason, actor_id)
SELECT r.order_id, r.line, r.product, r.warehouse, r.quantity, 'firm', 'active', NULL,
       %(now)s, %(now)s, %(reason)s, %(actor)s
  FROM unnest(%(orders)s::bigint[], %(lines)s::bigint[], %(products)s::bigint[],
              %(warehouses)s::bigint[], %(quantities)s::integer[])
       AS r(order_id, line, product, warehouse, quantity)
"""

_ADD_RESERVED_SQL = """
UPDATE inventory_stocklevel s
   SET reserved = s.reserved + added.quantity, updated_at = %(now)s
  FROM unnest(%(ids)s::bigint[], %(quantities)s::integer[]) AS added(id, quantity)
 WHERE s.id = added.id
"""


@dataclass(frozen=True, slots=True)
class WaitingLine:
    """`quantity` units of an order line that wait for stock."""

    order_id: int
    order_line_id: int
    product_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Allocation:
    order_id: int
    order_line_id: int
    product_id: int
    warehouse_id: int
    quantity: int


def reserve_available(*, lines: Sequence[WaitingLine], actor_id: int | None = None,
                      reason: str = "", exclude_warehouses: Sequence[int] = ()
                      ) -> list[Allocation]:
    """Reserve firmly, line after line in the given order, what the active
    warehouses have available; a line gets all it waits for when stock
    allows, else what is left (possibly nothing). Never refuses.

    A line is served whole from one warehouse when one can (preferring a
    warehouse its order already uses here, then the one with most
    available), else from several by descending availability.
    `exclude_warehouses`: warehouses not to take from (where the picker
    just found the shelf empty).
    """
    wanted = [line for line in lines if line.quantity > 0]
    if not wanted:
        return []
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_LOCK_LEVELS_SQL, {"products": sorted({w.product_id for w in wanted}),
                                          "excluded": list(exclude_warehouses)})
        by_product: dict[int, list[list[int]]] = defaultdict(list)
        for pk, product_id, warehouse_id, available in cursor.fetchall():
            if available > 0:
                by_product[product_id].append([pk, warehouse_id, available])
        allocations, added = _allocate(wanted, by_product)
        if not allocations:
            return []
        now = timezone.now()
        cursor.execute(_INSERT_FIRM_SQL, {
            "now": now, "reason": reason[:200], "actor": actor_id,
            "orders": [a.order_id for a in allocations],
            "lines": [a.order_line_id for a in allocations],
            "products": [a.product_id for a in allocations],
            "warehouses": [a.warehouse_id for a in allocations],
            "quantities": [a.quantity for a in allocations]})
        level_ids = sorted(added)
        cursor.execute(_ADD_RESERVED_SQL, {"ids": level_ids, "now": now,
                                           "quantities": [added[pk] for pk in level_ids]})
    return allocations


def _allocate(lines: list[WaitingLine], by_product: dict[int, list[list[int]]]
              ) -> tuple[list[Allocation], dict[int, int]]:
    """The allocations in line order, and the units added per stock level id."""
    allocations: list[Allocation] = []
    added: dict[int, int] = defaultdict(int)
    used: dict[int, set[int]] = defaultdict(set)  # order id -> warehouses
    for line in lines:
        levels = by_product.get(line.product_id)
        if not levels:
            continue
        whole = [lv for lv in levels if lv[2] >= line.quantity]
        if whole:
            best = min(whole, key=lambda lv: (lv[1] not in used[line.order_id], -lv[2], lv[0]))
            picks = [(best, line.quantity)]
        else:
            picks, remaining = [], line.quantity
            for lv in sorted(levels, key=lambda lv: (-lv[2], lv[0])):
                if remaining == 0 or lv[2] <= 0:
                    break
                take = min(remaining, lv[2])
                picks.append((lv, take))
                remaining -= take
        for level, quantity in picks:
            level[2] -= quantity
            added[level[0]] += quantity
            used[line.order_id].add(level[1])
            allocations.append(Allocation(order_id=line.order_id,
                                          order_line_id=line.order_line_id,
                                          product_id=line.product_id, warehouse_id=level[1],
                                          quantity=quantity))
        if any(lv[2] <= 0 for lv in levels):
            by_product[line.product_id] = [lv for lv in levels if lv[2] > 0]
    return allocations, added
