"""Waiting lines meet arriving stock: `allocate_waiting`.

A line's `backordered_quantity` is what it still waits for (short at
approval, or not found by the picker). When stock arrives (a goods receipt,
a return, a stock count, the periodic sweep) `allocate_waiting` reserves it
for the waiting lines, firm and per warehouse, in this order:

1. `Order.priority`, highest first (default 0; a rush order jumps the queue),
2. `Order.placed_at`, oldest first (first come, first served),
3. the order id, then the line's position.

A backordered order whose lines are now all reserved becomes `reserved`; so
does a backordered "ship what is ready" order (`Order.ships_complete` False)
that now has reserved units: the warehouse may pick the ready part while the
rest still waits. A "ship complete" order keeps what it got reserved and stays
backordered until its last line is covered. Orders already reserved, picking
or packed take the stock too (their next pick list or shipment carries it).

Set-based: a fixed number of statements whatever the number of lines (the
orders locked, the lines read, the stock rows locked, reservations inserted,
stock and lines updated, events and e-mails inserted, the status moves).
Orders another transaction holds locked are skipped (SKIP LOCKED), never
waited on: a goods receipt may hold stock rows when it calls in, and the
periodic sweep picks those orders up later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from inventory import api as inventory_api
from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.sqlarrays import int_array
from orders.models import EventKind, OrderStatus
from orders.services._common import EMAIL_HANDLER, _actor_id, bulk_transition

# Orders whose waiting lines take arriving stock.
ALLOCATING_STATES = [OrderStatus.BACKORDERED, OrderStatus.RESERVED, OrderStatus.PICKING,
                     OrderStatus.PACKED]

_LOCK_WAITING_ORDERS_SQL = """
SELECT o.id, o.status, coalesce(o.ship_complete, c.ship_complete)
  FROM orders_order o
  JOIN customers_customer c ON c.id = o.customer_id
 WHERE o.status = ANY(%(states)s)
   AND o.id IN (SELECT l.order_id FROM orders_orderline l
                 WHERE l.backordered_quantity > 0
                   AND (l.available_from IS NULL OR l.available_from <= %(today)s)
                   AND (%(all_products)s OR l.product_id = ANY(%(products)s::bigint[])))
   AND (%(all_orders)s OR o.id = ANY(%(orders)s::bigint[]))
 ORDER BY o.id
   FOR UPDATE OF o SKIP LOCKED
"""

_WAITING_LINES_SQL = """
SELECT l.id, l.order_id, l.product_id, l.backordered_quantity
  FROM orders_orderline l
  JOIN orders_order o ON o.id = l.order_id
 WHERE l.order_id = ANY(%(orders)s::bigint[]) AND l.backordered_quantity > 0
   AND (l.available_from IS NULL OR l.available_from <= %(today)s)
   AND (%(all_products)s OR l.product_id = ANY(%(products)s::bigint[]))
 ORDER BY o.priority DESC, o.placed_at NULLS LAST, o.id, l.position
"""

# `l.order_id = ANY(...)`: the lines are found through their orders' index
# (a few hundred probes), not by scanning the whole table for the ids.
_TAKE_FROM_WAITING_SQL = """
UPDATE orders_orderline l
   SET backordered_quantity = l.backordered_quantity - taken.quantity
  FROM unnest(%(ids)s::bigint[], %(quantities)s::integer[]) AS taken(id, quantity)
 WHERE l.id = taken.id AND l.order_id = ANY(%(orders)s::bigint[])
"""

# One "allocated" event per order served, its payload built in SQL: the
# units per line, their SKUs, and what the order still waits for. Each line
# and order is looked up by its key (a join would hash the whole table).
_ALLOCATED_EVENTS_SQL = """
INSERT INTO orders_orderevent (order_id, kind, actor_id, created_at, from_status, to_status,
                               reason, data)
SELECT t.order_id, %(kind)s, %(actor)s, %(now)s, '', '', '',
       jsonb_build_object(
           'allocated', jsonb_object_agg(t.line_id::text, t.quantity),
           'skus', jsonb_object_agg(t.line_id::text,
                                    (SELECT l.sku FROM orders_orderline l
                                      WHERE l.id = t.line_id)),
           'waiting', (SELECT coalesce(sum(w.backordered_quantity), 0)::integer
                         FROM orders_orderline w WHERE w.order_id = t.order_id))
  FROM unnest(%(orders)s::bigint[], %(lines)s::bigint[], %(quantities)s::integer[])
       AS t(order_id, line_id, quantity)
 GROUP BY t.order_id
 ORDER BY t.order_id
RETURNING id, order_id, (data ->> 'waiting')::integer
"""


@dataclass(frozen=True, slots=True)
class _LockedOrder:
    pk: int
    status: str
    ships_complete: bool


def allocate_waiting(*, product_ids: Sequence[int] | None = None, actor: Actor,
                     order_ids: Sequence[int] | None = None,
                     exclude_warehouses: Sequence[int] = ()) -> int:
    """Reserve available stock for the waiting lines of `product_ids` (None:
    every product) in the caller's transaction; returns the number of order
    lines that received units.

    Writes an "allocated" event on each order served (which lines got how
    many units, and how many still wait), moves backordered orders that may
    now be picked to `reserved`, and queues one e-mail per order served:
    "confirmed" when nothing waits any more, else "allocated" (what is
    reserved, what still follows). `order_ids` narrows it to those orders,
    `exclude_warehouses` keeps a warehouse out (a short pick's).
    """
    with transaction.atomic():
        return _allocate_waiting(product_ids=product_ids, actor=actor, order_ids=order_ids,
                                 exclude_warehouses=exclude_warehouses)


def _allocate_waiting(*, product_ids: Sequence[int] | None, actor: Actor,
                      order_ids: Sequence[int] | None,
                      exclude_warehouses: Sequence[int]) -> int:
    products = sorted({int(pk) for pk in product_ids}) if product_ids is not None else []
    if product_ids is not None and not products:
        return 0
    # A pre-order line waits for its release date as well as for stock.
    filters: dict[str, Any] = {"all_products": product_ids is None,
                               "products": int_array(products),
                               "today": timezone.localdate()}
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_WAITING_ORDERS_SQL, {
            **filters, "states": [str(s) for s in ALLOCATING_STATES],
            "all_orders": order_ids is None, "orders": int_array(order_ids or [])})
        orders = {pk: _LockedOrder(pk, status, complete) for pk, status, complete in cursor}
        if not orders:
            return 0
        cursor.execute(_WAITING_LINES_SQL, {**filters, "orders": int_array(sorted(orders))})
        waiting = cursor.fetchall()
    allocations = inventory_api.reserve_available(
        lines=[inventory_api.WaitingLine(order_id=order_id, order_line_id=line_id,
                                         product_id=product_id, quantity=quantity)
               for line_id, order_id, product_id, quantity in waiting],
        actor_id=_actor_id(actor), reason="allocated to a waiting line",
        exclude_warehouses=exclude_warehouses)
    if not allocations:
        return 0
    taken: dict[int, int] = defaultdict(int)
    order_of: dict[int, int] = {}
    for a in allocations:
        taken[a.order_line_id] += a.quantity
        order_of[a.order_line_id] = a.order_id
    line_ids = sorted(taken)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_FROM_WAITING_SQL, {
            "ids": int_array(line_ids), "quantities": int_array(taken[pk] for pk in line_ids),
            "orders": int_array(sorted(set(order_of.values())))})
        cursor.execute(_ALLOCATED_EVENTS_SQL, {
            "orders": int_array(order_of[pk] for pk in line_ids), "lines": int_array(line_ids),
            "quantities": int_array(taken[pk] for pk in line_ids), "now": now,
            "actor": _actor_id(actor), "kind": EventKind.ALLOCATED.value})
        events = cursor.fetchall()
    _move_and_tell(orders, events, now=now, actor=actor)
    return len(taken)


def _move_and_tell(orders: dict[int, _LockedOrder], events: list[tuple[int, int, int]], *,
                   now: datetime, actor: Actor) -> None:
    """The status moves and the e-mails of the orders served (`events`: the
    allocated event id, order id, units still waiting)."""
    pickable = [order_id for _event, order_id, waiting in events
                if orders[order_id].status == OrderStatus.BACKORDERED
                and (not waiting or not orders[order_id].ships_complete)]
    if pickable:
        bulk_transition(order_ids=sorted(pickable), transition="allocate", fields={}, now=now,
                        actor=actor, data={"allocated": True})
    outbox.enqueue_many(EMAIL_HANDLER, [
        ({"order_id": order_id, "kind": "allocated" if waiting else "confirmed",
          "reason": "", "extra": {"event_id": event_id}},
         f"orders:email:{order_id}:allocated:{event_id}")
        for event_id, order_id, waiting in events])
