"""Scenario 6: reservation expiry. N lapsed holds (N/3 placed orders with 3
held lines each, their hold time past) are released by one sweep,
`orders.services.expire_orders` (what the beat task runs): it locks the due
orders, releases every lapsed hold and decrements stock in one statement
(`inventory.api.expire_lapsed_holds`), expires the orders, writes their
events and queues one e-mail each; after the commit the outbox rows are
handed to the broker.

Timed per run: the sweep up to its COMMIT, the whole call (with the
after-commit dispatch), and the inventory statement alone on a fresh set.
The holds are written with COPY on top of whatever data is there (at full
scale: next to the million orders of scenario 4), then the touched tables
are vacuumed (the steady state autovacuum keeps between minutely sweeps).
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
    percentile,
    stock_levels_off,
)

TARGET_S = 5.0


def lapsed_holds(holds: int) -> dict:
    """Write holds // 3 placed orders, 3 lapsed holds each, with their stock
    reserved; returns the ids."""
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT s.product_id, s.warehouse_id, s.id FROM inventory_stocklevel s"
                       " JOIN inventory_warehouse w ON w.id = s.warehouse_id"
                       " WHERE w.is_active ORDER BY s.id LIMIT 500")
        levels = cursor.fetchall()
        cursor.execute("SELECT id FROM customers_customer ORDER BY id LIMIT 1")
        row = cursor.fetchone()
    if not levels or row is None:
        build_catalogue(products=500, customers=10)
        return lapsed_holds(holds)
    customer_id = row[0]
    ensure_column_defaults()
    orders = max(1, holds // 3)
    now = datetime.now(UTC)
    lapsed = (now - timedelta(minutes=5)).isoformat()
    created = (now - timedelta(minutes=70)).isoformat()
    with psycopg.connect(conninfo(), autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("LOCK TABLE orders_order IN SHARE ROW EXCLUSIVE MODE")
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM orders_order")
        first_order = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM orders_orderline")
        first_line = cur.fetchone()[0] + 1
        obuf, lbuf, rbuf = io.StringIO(), io.StringIO(), io.StringIO()
        reserved: dict[int, int] = {}
        line_id = first_line
        for n in range(orders):
            order_id = first_order + n
            obuf.write(f"{order_id}\tSO-EXP-{order_id}\t{customer_id}\tweb\tEUR\tplaced\t\t\t"
                       f"{{}}\t{{}}\tcard\t30.00\t6.00\t36.00\t\t{created}\t{created}\t{created}\t"
                       f"{lapsed}\n")
            for position in range(3):
                product_id, warehouse_id, level_id = levels[(n * 3 + position) % len(levels)]
                lbuf.write(f"{line_id}\t{order_id}\t{position + 1}\t{product_id}\tEXP\tExpiry"
                           f"\t10.00\t20.00\t1\t10.00\n")
                rbuf.write(f"{order_id}\t{line_id}\t{product_id}\t{warehouse_id}\t1\thold\t"
                           f"active\t{lapsed}\t{created}\t{created}\t\n")
                reserved[level_id] = reserved.get(level_id, 0) + 1
                line_id += 1
        for table, columns, buf in [
            ("orders_order", "id, number, customer_id, channel, currency, status, hold_reason,"
             " hold_note, shipping_address, billing_address, payment_method, total_net,"
             " total_tax, total_gross, notes, created_at, updated_at, placed_at,"
             " hold_expires_at", obuf),
            ("orders_orderline", "id, order_id, position, product_id, sku, name, unit_price,"
             " tax_rate, quantity, line_net", lbuf),
            ("inventory_reservation", "order_id, order_line_id, product_id, warehouse_id,"
             " quantity, kind, status, expires_at, created_at, updated_at, status_reason",
             rbuf),
        ]:
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(buf.getvalue())
        cur.executemany("UPDATE inventory_stocklevel SET on_hand = on_hand + %s,"
                        " reserved = reserved + %s WHERE id = %s",
                        [(q, q, level_id) for level_id, q in reserved.items()])
        cur.executemany("INSERT INTO inventory_stockmovement (product_id, warehouse_id,"
                        " quantity, kind, reason, reference, created_at) SELECT product_id,"
                        " warehouse_id, %s, 'receipt', 'bench expiry', 'bench', now()"
                        " FROM inventory_stocklevel WHERE id = %s",
                        [(q, level_id) for level_id, q in reserved.items()])
        for table in ("orders_order", "orders_orderline"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT MAX(id) FROM {table}))")
        conn.commit()
        # Steady state, as autovacuum keeps it between the minutely sweeps:
        # without this, the dead index entries left by the previous run's
        # sweep (at the head of the partial expiry indexes) would be timed.
        conn.autocommit = True
        for table in ("orders_order", "inventory_reservation", "inventory_stocklevel",
                      "oms_outboxmessage"):
            cur.execute(f"VACUUM ANALYZE {table}")
    return {"first_order": first_order, "orders": orders, "holds": orders * 3}


def _check_released(first_order: int) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM inventory_reservation WHERE order_id >= %s"
                       " AND status = 'active'", [first_order])
        (still_active,) = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM orders_order WHERE id >= %s AND status <> 'expired'",
                       [first_order])
        (not_expired,) = cursor.fetchone()
    return {"holds_still_active": still_active, "orders_not_expired": not_expired,
            "stock_levels_off": stock_levels_off()}


def run(scale: Scale, ctx: dict) -> list[Row]:
    from django.db import connection, transaction

    from inventory.api import expire_lapsed_holds
    from orders.services import expire_orders

    to_commit, whole, inventory_only, checks, expired_counts = [], [], [], [], []
    for _run in range(scale.expiry_runs):
        created = lapsed_holds(scale.expiry_holds)
        committed: list[float] = []
        original_commit = connection.commit

        def timed_commit(original=original_commit, committed=committed):
            original()
            committed.append(time.perf_counter())

        connection.commit = timed_commit
        try:
            started = time.perf_counter()
            expired_counts.append(expire_orders())
            finished = time.perf_counter()
        finally:
            del connection.commit  # back to the class's method
        to_commit.append((committed[0] if committed else finished) - started)
        whole.append(finished - started)
        checks.append(_check_released(created["first_order"]))

        created = lapsed_holds(scale.expiry_holds)
        started = time.perf_counter()
        with transaction.atomic():
            expire_lapsed_holds()
        inventory_only.append(time.perf_counter() - started)
        # Leave no placed orders without holds behind for the next run.
        expire_orders()
    ok = all(not any(c.values()) for c in checks)
    holds = scale.expiry_holds // 3 * 3
    target = f"< {TARGET_S:.0f} s at 100,000"
    judged = scale.name == "full"
    return [
        Row(scenario="6", name=f"expire_orders: {holds:,} lapsed holds, to commit", unit="s",
            median=median(to_commit), p95=percentile(to_commit, 95), runs=len(to_commit),
            target=target, met=(percentile(to_commit, 95) < TARGET_S and ok) if judged else None,
            extra={"orders_expired": expired_counts, "checks": checks, "all_released": ok}),
        Row(scenario="6", name="expire_orders incl. after-commit outbox dispatch", unit="s",
            median=median(whole), p95=percentile(whole, 95), runs=len(whole),
            extra={"emails_dispatched_per_run": expired_counts}),
        Row(scenario="6", name="inventory.api.expire_lapsed_holds alone", unit="s",
            median=median(inventory_only), p95=percentile(inventory_only, 95),
            runs=len(inventory_only), target=target,
            met=(percentile(inventory_only, 95) < TARGET_S) if judged else None),
    ]
