"""Scenario 3: hot SKUs. 32 clients order from the same 5 products (3 lines
of 1 unit each, through `place_order` with approval, as in scenario 1)
until fewer than 3 of them have stock left.

Clients are threads, each with its own database connection, spread over a
few spawned processes (32 Django processes would not fit a 2-core machine
without measuring the scheduler). Afterwards the database must prove that
nothing was oversold: per hot stock level reserved <= on_hand, reserved =
the sum of its active reservations = the units on the orders that were not
refused, on_hand = its ledger = the opening stock; and no request failed
other than by a refusal (no deadlock: pg_stat_database.deadlocks unchanged).
The same clients then place the same number of orders over the whole
catalogue: the uncontended throughput it is compared with. Contended and
uncontended runs alternate, `runs` pairs on fresh catalogues.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict

from bench.common import (
    APPROVED_CARD,
    Row,
    Scale,
    address,
    build_catalogue,
    child_environment,
    db_settings,
    median,
    percentile,
    run_clients,
)

HOT_PRODUCTS = 5


def threaded_client(*, prepare: bool, state=None, threads: int, seed: int, skus: list[str],
                    customer_ids: list[int], orders: int | None) -> dict:
    """`threads` clients in this process. orders=None: until the hot stock is
    gone; else each thread places `orders` orders."""
    from django.db import connection

    from customers.models import Customer
    from inventory.api import InsufficientStock
    from inventory.models import StockLevel
    from orders.payments import PaymentDetails
    from orders.services import LineInput, PlaceOrder, place_order

    if prepare:
        customers = list(Customer.objects.filter(pk__in=customer_ids))
        connection.close()
        return {"customers": customers}
    payment = PaymentDetails(method="card", card_number=APPROVED_CARD)
    lock = threading.Lock()
    totals = {"placed": 0, "refused": 0, "latencies": [], "errors": []}

    def sold_out() -> bool:
        left = StockLevel.objects.filter(product__sku__in=skus,
                                         on_hand__gt=models_f("reserved")).count()
        return left < 3

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        placed = refused = 0
        latencies, errors = [], []
        try:
            attempts = 0
            while orders is None or attempts < orders:
                attempts += 1
                customer = rng.choice(state["customers"])
                lines = [LineInput(sku=sku, quantity=1) for sku in rng.sample(skus, 3)]
                started = time.perf_counter()
                try:
                    place_order(PlaceOrder.parse({
                        "customer": customer, "lines": lines, "channel": "web",
                        "currency": "EUR", "shipping_address": address(customer.name),
                        "payment": payment}), actor=None)
                    placed += 1
                except InsufficientStock:
                    refused += 1
                    if orders is None and sold_out():
                        break
                except Exception as exc:
                    errors.append(repr(exc)[:300])
                    if len(errors) > 50:
                        break
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()
        with lock:
            totals["placed"] += placed
            totals["refused"] += refused
            totals["latencies"] += latencies
            totals["errors"] += errors

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return totals


def models_f(name: str):
    from django.db.models import F

    return F(name)


def _measure(*, scale: Scale, skus: list[str], customer_ids: list[int],
             orders: int | None, seed: int) -> dict:
    per_process = scale.hot_clients // scale.hot_processes
    args = [{"threads": per_process, "seed": seed + i, "skus": skus,
             "customer_ids": customer_ids, "orders": orders}
            for i in range(scale.hot_processes)]
    wall, outcomes = run_clients(threaded_client, args,
                                 django_env=child_environment(db_settings()))
    placed = sum(o["placed"] for o in outcomes)
    return {"wall": wall, "placed": placed, "refused": sum(o["refused"] for o in outcomes),
            "errors": [e for o in outcomes for e in o["errors"]],
            "latencies": [lat for o in outcomes for lat in o["latencies"]],
            "throughput": placed / wall if wall else float("nan")}


def deadlocks() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def audit(*, skus: list[str], opening: int) -> dict:
    """The proof that nothing was oversold; every value must be true."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT p.sku, s.on_hand, s.reserved,
                   (SELECT COALESCE(SUM(r.quantity), 0) FROM inventory_reservation r
                     WHERE r.product_id = s.product_id AND r.warehouse_id = s.warehouse_id
                       AND r.status = 'active') AS active,
                   (SELECT COALESCE(SUM(m.quantity), 0) FROM inventory_stockmovement m
                     WHERE m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id)
                     AS ledger,
                   (SELECT COALESCE(SUM(l.quantity), 0) FROM orders_orderline l
                      JOIN orders_order o ON o.id = l.order_id
                     WHERE l.product_id = s.product_id
                       AND o.status NOT IN ('draft', 'cancelled', 'expired')) AS ordered
              FROM inventory_stocklevel s JOIN inventory_product p ON p.id = s.product_id
             WHERE p.sku = ANY(%s) ORDER BY p.sku""", [skus])
        levels = cursor.fetchall()
        cursor.execute("""
            SELECT COUNT(*) FROM orders_order o
             WHERE o.status NOT IN ('draft', 'cancelled', 'expired')
               AND (SELECT COALESCE(SUM(r.quantity), 0) FROM inventory_reservation r
                     WHERE r.order_id = o.id AND r.status = 'active')
                <> (SELECT SUM(l.quantity) FROM orders_orderline l WHERE l.order_id = o.id)
        """)
        (short_orders,) = cursor.fetchone()
    checks = {
        "reserved_within_on_hand": all(reserved <= on_hand for _s, on_hand, reserved, *_ in levels),
        "reserved_equals_active_reservations": all(r == a for _s, _o, r, a, _l, _d in levels),
        "reserved_equals_units_ordered": all(r == d for _s, _o, r, _a, _l, d in levels),
        "on_hand_equals_ledger_and_opening": all(o == ledger == opening
                                                 for _s, o, _r, _a, ledger, _d in levels),
        "every_open_order_fully_held": short_orders == 0,
    }
    return {"checks": checks, "levels": [
        {"sku": s, "on_hand": o, "reserved": r, "active": a, "ledger": ledger, "ordered": d}
        for s, o, r, a, ledger, d in levels]}


def run(scale: Scale, ctx: dict) -> list[Row]:
    # Contended and uncontended runs alternate (`scale.runs` pairs, each on a
    # fresh catalogue) so drift on this shared machine hits both alike; the
    # ratio is of the medians, and every contended run is audited.
    hot_skus = [f"HOT-{i}" for i in range(1, HOT_PRODUCTS + 1)]
    hot_runs, calm_runs, proofs = [], [], []
    deadlocks_before = deadlocks()
    for run_index in range(scale.runs):
        catalogue = asdict(build_catalogue(products=scale.catalogue_products,
                                           customers=scale.catalogue_customers,
                                           hot=HOT_PRODUCTS, hot_stock=scale.hot_stock))
        hot_run = _measure(scale=scale, skus=hot_skus, customer_ids=catalogue["customer_ids"],
                           orders=None, seed=11 + run_index)
        proofs.append(audit(skus=hot_skus, opening=scale.hot_stock))
        per_thread = max(1, -(-hot_run["placed"] // scale.hot_clients))
        calm_runs.append(_measure(scale=scale, skus=catalogue["skus"],
                                  customer_ids=catalogue["customer_ids"],
                                  orders=per_thread, seed=23 + run_index))
        hot_runs.append(hot_run)
    deadlocks_after = deadlocks()
    ctx["catalogue"] = catalogue
    hot = {"throughput": median([r["throughput"] for r in hot_runs]),
           "placed": sum(r["placed"] for r in hot_runs),
           "refused": sum(r["refused"] for r in hot_runs),
           "errors": [e for r in hot_runs for e in r["errors"]],
           "latencies": [lat for r in hot_runs for lat in r["latencies"]]}
    calm = {"throughput": median([r["throughput"] for r in calm_runs]),
            "placed": sum(r["placed"] for r in calm_runs),
            "errors": [e for r in calm_runs for e in r["errors"]]}
    proof = {"checks": {name: all(p["checks"][name] for p in proofs)
                        for name in proofs[0]["checks"]},
             "levels": [level for p in proofs for level in p["levels"]],
             "runs": proofs}
    attempts = hot["placed"] + hot["refused"] + len(hot["errors"])
    ratio = hot["throughput"] / calm["throughput"] if calm["throughput"] else None
    deadlock_errors = [e for e in hot["errors"] if "deadlock" in e.lower()]
    no_oversell = all(proof["checks"].values())
    oversold = sum(max(0, level["ordered"] - scale.hot_stock) for level in proof["levels"])
    clean = not hot["errors"] and deadlocks_after == deadlocks_before
    extra = {"clients": scale.hot_clients, "processes": scale.hot_processes,
             "opening_stock_per_sku": scale.hot_stock, "placed": hot["placed"],
             "refused": hot["refused"], "attempts": attempts,
             "errors": hot["errors"][:5], "error_count": len(hot["errors"]),
             "deadlock_errors": len(deadlock_errors),
             "pg_deadlocks": deadlocks_after - deadlocks_before, "proof": proof,
             "latency_ms_p50": median(hot["latencies"]),
             "latency_ms_p95": percentile(hot["latencies"], 95),
             "uncontended_orders": calm["placed"], "uncontended_errors": calm["errors"][:5],
             "throughput_runs": [r["throughput"] for r in hot_runs],
             "uncontended_runs": [r["throughput"] for r in calm_runs]}
    return [
        Row(scenario="3", name=f"hot SKUs: {scale.hot_clients} clients, 5 products",
            unit="orders/s", median=hot["throughput"], baseline=calm["throughput"],
            ratio=ratio, runs=scale.runs, target=">= 0.7 x uncontended",
            met=(ratio >= 0.7) if ratio else None, extra=extra),
        Row(scenario="3", name="hot SKUs: units oversold + failed requests + deadlocks",
            unit="count", median=float(oversold + len(hot["errors"])
                                       + deadlocks_after - deadlocks_before),
            runs=scale.runs, target="0, all audit checks true", met=no_oversell and clean,
            extra={"units_oversold": oversold, "failed_requests": len(hot["errors"]),
                   "deadlocks": deadlocks_after - deadlocks_before,
                   "refusals": hot["refused"], "checks": proof["checks"]}),
    ]
