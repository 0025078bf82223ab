"""Scenario 7: allocation on receipt. 1,000 backordered orders of 10 lines
each (10,000 waiting lines over 200 products, nothing available) are
written with COPY; then stock arrives for every line (one receipt per stock
level, on_hand and ledger) and one `orders.services.allocate_waiting` call
(what a goods receipt runs, in one transaction) reserves it first come
first served, writes each order's event and status change and queues its
e-mail. Timed to its COMMIT, and with the after-commit outbox dispatch.

Baseline in the same run: plain SQL doing the same writes on a fresh, equal
set (the reservations inserted from the waiting lines, the stock levels
raised, the lines and the orders updated), without the product's rules
(order of service, warehouse choice, events, e-mails). Afterwards every
line is covered, every order reserved and every stock level's `reserved`
equals its active reservations.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

from bench.common import (
    Row,
    Scale,
    build_catalogue,
    conninfo,
    ensure_column_defaults,
    median,
    stock_levels_off,
)

TARGET_S = 5.0
PRODUCTS = 200

_BASELINE_SQL = [
    """INSERT INTO inventory_reservation (order_id, order_line_id, product_id, warehouse_id,
           quantity, kind, status, created_at, updated_at, status_reason)
       SELECT l.order_id, l.id, l.product_id, s.warehouse_id, l.backordered_quantity, 'firm',
              'active', now(), now(), ''
         FROM orders_orderline l
         JOIN inventory_stocklevel s ON s.id = (SELECT min(id) FROM inventory_stocklevel
                                                  WHERE product_id = l.product_id)
        WHERE l.order_id >= %(first)s AND l.backordered_quantity > 0""",
    """UPDATE inventory_stocklevel s SET reserved = s.reserved + w.units
         FROM (SELECT product_id, sum(backordered_quantity) AS units FROM orders_orderline
                WHERE order_id >= %(first)s GROUP BY product_id) w
        WHERE s.id = (SELECT min(id) FROM inventory_stocklevel WHERE product_id = w.product_id)""",
    """UPDATE orders_orderline SET backordered_quantity = 0
        WHERE order_id >= %(first)s AND backordered_quantity > 0""",
    """UPDATE orders_order SET status = 'reserved', updated_at = now()
        WHERE id >= %(first)s AND status = 'backordered'""",
]


def waiting_orders(orders: int, lines: int) -> dict:
    """Write `orders` backordered orders of `lines` waiting lines each (2
    units per line) over PRODUCTS products whose stock is all reserved
    elsewhere or absent, then receive exactly what they wait for."""
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT s.product_id, s.id FROM inventory_stocklevel s"
                       " JOIN inventory_warehouse w ON w.id = s.warehouse_id"
                       " WHERE w.is_active ORDER BY s.id LIMIT %s", [PRODUCTS])
        levels = cursor.fetchall()
        cursor.execute("SELECT id FROM customers_customer ORDER BY id LIMIT 1")
        row = cursor.fetchone()
    if not levels or row is None:
        build_catalogue(products=PRODUCTS, customers=10)
        return waiting_orders(orders, lines)
    customer_id = row[0]
    ensure_column_defaults()
    now = datetime.now(UTC)
    with psycopg.connect(conninfo(), autocommit=False) as conn, conn.cursor() as cur:
        # Nothing available before the receipt (what is there is reserved).
        cur.execute("UPDATE inventory_stocklevel SET on_hand = reserved WHERE id = ANY(%s)",
                    [[level_id for _p, level_id in levels]])
        cur.execute("LOCK TABLE orders_order IN SHARE ROW EXCLUSIVE MODE")
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM orders_order")
        first_order = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM orders_orderline")
        first_line = cur.fetchone()[0] + 1
        obuf, lbuf = io.StringIO(), io.StringIO()
        units: dict[int, int] = {}
        line_id = first_line
        for n in range(orders):
            order_id = first_order + n
            placed = (now - timedelta(minutes=orders - n)).isoformat()
            obuf.write(f"{order_id}\tSO-ALC-{order_id}\t{customer_id}\tweb\tEUR\tbackordered\t"
                       f"\t\t{{}}\t{{}}\tcard\t200.00\t40.00\t240.00\t\t{placed}\t{placed}\t"
                       f"{placed}\t\\N\n")
            for position in range(lines):
                product_id, level_id = levels[(n * lines + position) % len(levels)]
                lbuf.write(f"{line_id}\t{order_id}\t{position + 1}\t{product_id}\tALC\tAlloc"
                           f"\t10.00\t20.00\t2\t20.00\t2\n")
                units[level_id] = units.get(level_id, 0) + 2
                line_id += 1
        for table, columns, buf in [
            ("orders_order", "id, number, customer_id, channel, currency, status, hold_reason,"
             " hold_note, shipping_address, billing_address, payment_method, total_net,"
             " total_tax, total_gross, notes, created_at, updated_at, placed_at,"
             " hold_expires_at", obuf),
            ("orders_orderline", "id, order_id, position, product_id, sku, name, unit_price,"
             " tax_rate, quantity, line_net, backordered_quantity", lbuf),
        ]:
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(buf.getvalue())
        # The receipt: exactly what the lines wait for, with its ledger rows.
        cur.executemany("UPDATE inventory_stocklevel SET on_hand = on_hand + %s WHERE id = %s",
                        [(q, level_id) for level_id, q in units.items()])
        cur.executemany("INSERT INTO inventory_stockmovement (product_id, warehouse_id,"
                        " quantity, kind, reason, reference, created_at) SELECT product_id,"
                        " warehouse_id, %s, 'receipt', 'bench allocation', 'bench', now()"
                        " FROM inventory_stocklevel WHERE id = %s",
                        [(q, level_id) for level_id, q in units.items()])
        for table in ("orders_order", "orders_orderline"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT MAX(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        for table in ("orders_order", "orders_orderline", "inventory_stocklevel",
                      "inventory_reservation"):
            cur.execute(f"VACUUM ANALYZE {table}")
    return {"first_order": first_order, "orders": orders, "lines": orders * lines}


def _check(first_order: int) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_orderline WHERE order_id >= %s"
                       " AND backordered_quantity > 0", [first_order])
        (still_waiting,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM orders_order WHERE id >= %s AND status <> 'reserved'",
                       [first_order])
        (not_reserved,) = cursor.fetchone()
    return {"lines_still_waiting": still_waiting, "orders_not_reserved": not_reserved,
            "stock_levels_off": stock_levels_off()}


def _release_bench_orders(first_order: int) -> None:
    """Leave nothing of this run reserved for the next."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""UPDATE inventory_stocklevel s SET reserved = s.reserved - r.units
                            FROM (SELECT product_id, warehouse_id, sum(quantity) AS units
                                    FROM inventory_reservation
                                   WHERE order_id >= %s AND status = 'active'
                                   GROUP BY product_id, warehouse_id) r
                           WHERE s.product_id = r.product_id AND s.warehouse_id = r.warehouse_id""",
                       [first_order])
        cursor.execute("UPDATE inventory_reservation SET status = 'released'"
                       " WHERE order_id >= %s AND status = 'active'", [first_order])
        cursor.execute("UPDATE orders_order SET status = 'cancelled' WHERE id >= %s",
                       [first_order])


def run(scale: Scale, ctx: dict) -> list[Row]:
    from django.db import connection, transaction

    from orders.services import allocate_waiting

    ours, whole, baseline, checks, allocated = [], [], [], [], []
    for _run in range(scale.runs):
        created = waiting_orders(scale.allocation_orders, scale.allocation_lines)
        committed: list[float] = []
        original_commit = connection.commit

        def timed_commit(original=original_commit, committed=committed):
            original()
            committed.append(time.perf_counter())

        connection.commit = timed_commit
        try:
            started = time.perf_counter()
            with transaction.atomic(durable=True):
                allocated.append(allocate_waiting(actor=None))
            finished = time.perf_counter()
        finally:
            del connection.commit  # back to the class's method
        ours.append((committed[0] if committed else finished) - started)
        whole.append(finished - started)
        checks.append(_check(created["first_order"]))
        _release_bench_orders(created["first_order"])

        created = waiting_orders(scale.allocation_orders, scale.allocation_lines)
        started = time.perf_counter()
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            for statement in _BASELINE_SQL:
                cursor.execute(statement, {"first": created["first_order"]})
        baseline.append(time.perf_counter() - started)
        _release_bench_orders(created["first_order"])
    ok = all(not any(c.values()) for c in checks)
    lines = scale.allocation_orders * scale.allocation_lines
    ours_s, base_s = median(ours), median(baseline)
    judged = scale.name != "tiny"
    return [Row(scenario="7",
                name=f"allocate_waiting: {lines:,} lines / {scale.allocation_orders:,} orders,"
                     " to commit", unit="s",
                median=ours_s, p95=max(ours), baseline=base_s,
                ratio=(ours_s / base_s) if base_s else None, runs=len(ours),
                target=f"< {TARGET_S:.0f} s", met=(max(ours) < TARGET_S and ok) if judged else None,
                extra={"lines_allocated": allocated, "checks": checks, "all_covered": ok}),
            Row(scenario="7", name="allocate_waiting incl. after-commit outbox dispatch",
                unit="s", median=median(whole), p95=max(whole), runs=len(whole),
                extra={"emails_queued_per_run": scale.allocation_orders})]
