"""Scenario 1: placement through the service layer with 1, 2 and 8 client
processes, against the SQL baseline with the same number of processes.

Each client is a spawned process with its own connection (django.setup()
per process). It calls `orders.services.place_order` exactly as a channel
does: a trusted customer, three lines of 1-3 units, card payment. The
target rows measure the placement: validation, catalogue prices, the
placed order + lines + both events, the holds (stock rows locked in id
order), the outbox e-mail row and its dispatch to the broker after commit;
no payment approver is registered in these clients, so orders wait as
`placed` (holds taken), which is the state the SQL baseline leaves too.
The "+ payment approval" rows run the billing approver after each commit
as the product does (authorisation, holds made firm, order reserved,
second e-mail): a second transaction the baseline has no counterpart for.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict

from bench.baseline import baseline_client
from bench.common import (
    APPROVED_CARD,
    Row,
    Scale,
    address,
    build_catalogue,
    child_environment,
    conninfo,
    db_settings,
    median,
    percentile,
    run_clients,
)


def service_client(*, prepare: bool, state=None, orders: int, seed: int, catalogue: dict,
                   lines: int = 3, quantity: tuple[int, int] = (1, 3),
                   approver: bool = True, until_refused: bool = False) -> dict:
    """A client process placing orders through orders.services.place_order."""
    from customers.models import Customer
    from inventory.api import InsufficientStock
    from orders import payments
    from orders.payments import PaymentDetails
    from orders.services import LineInput, PlaceOrder, place_order

    if prepare:
        if not approver:  # the placement alone: orders wait for a person
            payments.register_payment_approver(None)
        customers = list(Customer.objects.filter(pk__in=catalogue["customer_ids"]))
        return {"customers": customers}
    rng = random.Random(seed)
    skus = catalogue["skus"]
    latencies, placed, refused, errors = [], 0, 0, []
    payment = PaymentDetails(method="card", card_number=APPROVED_CARD)
    for _ in range(orders):
        customer = rng.choice(state["customers"])
        order_lines = [LineInput(sku=sku, quantity=rng.randint(*quantity))
                       for sku in rng.sample(skus, lines)]
        started = time.perf_counter()
        try:
            place_order(PlaceOrder.parse({
                "customer": customer, "lines": order_lines, "channel": "web",
                "currency": "EUR", "shipping_address": address(customer.name),
                "payment": payment}), actor=None)
            placed += 1
        except InsufficientStock:
            refused += 1
        except Exception as exc:  # counted and shown: a deadlock would land here
            errors.append(repr(exc)[:300])
        latencies.append((time.perf_counter() - started) * 1000)
        if until_refused and refused >= orders:
            break
    return {"latencies": latencies, "placed": placed, "refused": refused, "errors": errors}


def measure(*, clients: int, orders: int, seed: int, catalogue: dict, sql: bool,
            approver: bool = True, **kwargs) -> dict:
    """One run: `clients` processes each placing `orders` orders."""
    settings_dict = db_settings()
    if sql:
        args = [{"conninfo": conninfo(settings_dict), "orders": orders, "seed": seed + i,
                 "catalogue": catalogue, **kwargs} for i in range(clients)]
        wall, outcomes = run_clients(baseline_client, args, django_env=None)
    else:
        args = [{"orders": orders, "seed": seed + i, "catalogue": catalogue,
                 "approver": approver, **kwargs} for i in range(clients)]
        wall, outcomes = run_clients(service_client, args,
                                     django_env=child_environment(settings_dict))
    placed = sum(o["placed"] for o in outcomes)
    return {"wall": wall, "placed": placed, "refused": sum(o["refused"] for o in outcomes),
            "errors": [e for o in outcomes for e in o.get("errors", [])],
            "latencies": [lat for o in outcomes for lat in o["latencies"]],
            "throughput": placed / wall if wall > 0 else float("nan")}


def compare(scale: Scale, *, clients: int, orders: int, catalogue: dict, label: str,
            scenario: str, approver: bool = True, target_ratio: float | None = None,
            target_text: str = "") -> Row:
    """Alternate ours and the baseline run by run (drift hits both alike)."""
    ours, base = [], []
    for run in range(scale.runs):
        seed = 1000 * run + clients
        ours.append(measure(clients=clients, orders=orders, seed=seed, catalogue=catalogue,
                            sql=False, approver=approver))
        base.append(measure(clients=clients, orders=orders, seed=seed, catalogue=catalogue,
                            sql=True))
    ours_tp = median([m["throughput"] for m in ours])
    base_tp = median([m["throughput"] for m in base])
    ratio = ours_tp / base_tp if base_tp else None
    latencies = [lat for m in ours for lat in m["latencies"]]
    errors = [e for m in ours for e in m["errors"]]
    return Row(
        scenario=scenario, name=label, unit="orders/s", median=ours_tp,
        p95=None, baseline=base_tp, ratio=ratio, runs=scale.runs,
        target=target_text, met=(ratio >= target_ratio) if target_ratio and ratio else None,
        extra={"clients": clients, "orders_per_client": orders,
               "latency_ms_p50": median(latencies), "latency_ms_p95": percentile(latencies, 95),
               "baseline_latency_ms_p50": median([lat for m in base for lat in m["latencies"]]),
               "baseline_latency_ms_p95": percentile(
                   [lat for m in base for lat in m["latencies"]], 95),
               "throughput_runs": [m["throughput"] for m in ours],
               "baseline_runs": [m["throughput"] for m in base],
               "refused": sum(m["refused"] for m in ours), "errors": errors[:5],
               "error_count": len(errors)})


def run(scale: Scale, ctx: dict) -> list[Row]:
    catalogue = asdict(build_catalogue(products=scale.catalogue_products,
                                       customers=scale.catalogue_customers))
    ctx["catalogue"] = catalogue
    rows = []
    # The target rows: the placement, i.e. the writes the SQL baseline does
    # too (order, lines, holds, stock) plus what the service adds to them
    # (validation, catalogue prices, events, the outbox e-mail and its
    # dispatch). The payment approval is a second transaction after the
    # commit that the baseline has no counterpart for; its rows follow.
    for clients in scale.placement_clients:
        rows.append(compare(scale, clients=clients, orders=scale.placement_orders[clients],
                            catalogue=catalogue, scenario="1", approver=False,
                            label=f"place_order (holds taken), {clients} client process(es)",
                            target_ratio=0.5, target_text=">= 0.5 x SQL"))
    for clients in (scale.placement_clients[0], scale.placement_clients[-1]):
        rows.append(compare(scale, clients=clients, orders=scale.placement_orders[clients],
                            catalogue=catalogue, scenario="1",
                            label=f"place_order + payment approval, {clients} proc."))
    return rows
