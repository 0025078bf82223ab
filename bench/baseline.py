"""The database's own limit: the writes of one placement as plain SQL through
psycopg, one transaction per order, no Django.

Per order: the number from the order sequence, INSERT the order, its three
lines (one statement), take each line's stock with a conditional
`UPDATE ... SET reserved = reserved + q WHERE id = .. AND on_hand - reserved
>= q` (stock rows in id order, like the product's lock rule), INSERT the
holds (one statement), COMMIT. A line that cannot be had rolls the order
back (a refusal). Same tables, same indexes and constraints as the product.
"""

from __future__ import annotations

import json
import random
import time
from decimal import Decimal

from bench.common import address

ORDER_SQL = """
INSERT INTO orders_order (number, channel, currency, status, hold_reason, hold_note,
    shipping_address, billing_address, payment_method, total_net, total_tax, total_gross,
    notes, created_at, updated_at, placed_at, hold_expires_at, customer_id)
VALUES ('SO-2026-' || lpad(nextval('orders_order_number_seq')::text, 6, '0'), 'web', 'EUR',
    'placed', '', '', %(address)s, %(address)s, 'card', %(net)s, %(tax)s, %(gross)s, '',
    now(), now(), now(), now() + interval '60 minutes', %(customer)s)
RETURNING id
"""
LINES_SQL = """
INSERT INTO orders_orderline (order_id, position, product_id, sku, name, unit_price,
    tax_rate, quantity, line_net)
VALUES {values}
RETURNING id
"""
TAKE_SQL = """
UPDATE inventory_stocklevel SET reserved = reserved + %s, updated_at = now()
 WHERE id = %s AND on_hand - reserved >= %s
"""
HOLDS_SQL = """
INSERT INTO inventory_reservation (order_id, order_line_id, product_id, warehouse_id,
    quantity, kind, status, expires_at, created_at, updated_at, status_reason)
VALUES {values}
"""


def place_sql(cur, *, customer_id: int, lines: list[tuple[int, int, int, str, Decimal]],
              warehouse_id: int) -> bool:
    """One order in the current transaction; False (rolled back) when short.

    `lines`: (product_id, stock_level_id, quantity, sku, unit_price)."""
    net = sum((price * q for _p, _s, q, _sku, price in lines), Decimal("0"))
    tax = (net * Decimal("0.20")).quantize(Decimal("0.01"))
    cur.execute(ORDER_SQL, {"address": json.dumps(address("Bench")), "net": net, "tax": tax,
                            "gross": net + tax, "customer": customer_id})
    (order_id,) = cur.fetchone()
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, 20.00, %s, %s)"] * len(lines))
    params: list = []
    for position, (product_id, _s, quantity, sku, price) in enumerate(lines, start=1):
        params += [order_id, position, product_id, sku, sku, price, quantity, price * quantity]
    cur.execute(LINES_SQL.format(values=values), params)
    line_ids = [row[0] for row in cur.fetchall()]
    for _product, stock_id, quantity, _sku, _price in sorted(lines, key=lambda line: line[1]):
        cur.execute(TAKE_SQL, [quantity, stock_id, quantity])
        if cur.rowcount != 1:
            return False
    values = ", ".join(["(%s, %s, %s, %s, %s, 'hold', 'active', now() + interval '60 minutes',"
                        " now(), now(), '')"] * len(lines))
    params = []
    for line_id, (product_id, _s, quantity, _sku, _price) in zip(line_ids, lines, strict=True):
        params += [order_id, line_id, product_id, warehouse_id, quantity]
    cur.execute(HOLDS_SQL.format(values=values), params)
    return True


def baseline_client(*, prepare: bool, state=None, conninfo: str, orders: int, seed: int,
                    catalogue: dict, lines: int = 3, quantity: tuple[int, int] = (1, 3),
                    until_refused: bool = False) -> dict:
    """A client process of the SQL baseline (see bench.common.run_clients)."""
    import psycopg

    if prepare:
        conn = psycopg.connect(conninfo)
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM inventory_warehouse WHERE code = 'MAIN'")
            (warehouse_id,) = cur.fetchone()
        conn.commit()
        return {"conn": conn, "warehouse_id": warehouse_id}
    conn = state["conn"]
    rng = random.Random(seed)
    skus = catalogue["skus"]
    latencies, placed, refused = [], 0, 0
    for _ in range(orders):
        chosen = rng.sample(skus, lines)
        order_lines = [(catalogue["product_ids"][sku], catalogue["stock_ids"][sku],
                        rng.randint(*quantity), sku, Decimal(catalogue["prices"][sku]))
                       for sku in chosen]
        started = time.perf_counter()
        with conn.cursor() as cur:
            ok = place_sql(cur, customer_id=rng.choice(catalogue["customer_ids"]),
                           lines=order_lines, warehouse_id=state["warehouse_id"])
        if ok:
            conn.commit()
            placed += 1
        else:
            conn.rollback()
            refused += 1
        latencies.append((time.perf_counter() - started) * 1000)
        if until_refused and not ok and refused >= orders:
            break
    conn.close()
    return {"latencies": latencies, "placed": placed, "refused": refused}
