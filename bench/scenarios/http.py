"""Scenario 2: placement through the HTTP API (`POST /api/v1/orders`) under
gunicorn with 2 sync workers, load from threads on loopback.

The bench starts gunicorn itself on a free 127.0.0.1 port against the bench
database (production settings: DEBUG off, persistent connections
CONN_MAX_AGE=60), with an API token made by `oms.api.create_api_token` (what
`manage.py create_api_token` calls). Each request is what a storefront sends:
an existing customer's e-mail, three lines, a card that the sandbox approves,
and an `Idempotency-Key`. The SQL baseline runs with 2 client processes,
the number of workers that talk to the database.

As in scenario 1, the target row measures the placement the baseline
mirrors: gunicorn serves `bench.wsgi_placement` (the product's application
with no payment approver registered), so the answer is `placed` with holds.
The "+ payment approval" row serves `oms.wsgi` as deployed: the approval
runs inside the request after the placement commits.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bench.common import (
    APPROVED_CARD,
    Row,
    Scale,
    address,
    child_environment,
    db_settings,
    median,
    percentile,
)
from bench.scenarios.placement import measure

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
TIME_LIMIT = 300.0  # seconds per run, whatever the order count


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn on loopback, stopped (by its own pid) on exit."""

    def __init__(self, *, workers: int = WORKERS, app: str = "oms.wsgi:application"):
        self.port = free_port()
        # No per-token rate limit: the bench measures placement, one token
        # sending as fast as the workers answer.
        env = {**os.environ, **child_environment(db_settings()), "CONN_MAX_AGE": "60",
               "API_RATE_LIMIT_PER_MINUTE": "0", "PYTHONPATH": str(ROOT)}
        self.log = open(ROOT / "bench" / "results" / "gunicorn.log.tmp", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
             f"127.0.0.1:{self.port}", "--access-logfile", "-", "--log-level", "warning",
             "--timeout", "120", app],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log)

    def __enter__(self) -> Gunicorn:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited; see bench/results/gunicorn.log.tmp")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def load(*, port: int, token: str, orders: int, threads: int, catalogue: dict,
         seed: int) -> dict:
    """`threads` clients send `orders` placements in all; bounded by TIME_LIMIT."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(orders):
        email = rng.choice(catalogue["emails"])
        bodies.append(json.dumps({
            "customer": {"email": email, "name": "Bench customer"},
            "lines": [{"sku": sku, "quantity": rng.randint(1, 3)}
                      for sku in rng.sample(catalogue["skus"], 3)],
            "shipping_address": address("Bench customer"),
            "currency": "EUR",
            "payment": {"method": "card", "card_number": APPROVED_CARD},
        }))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    order_statuses: dict[str, int] = {}
    failures: list[str] = []
    deadline = time.monotonic() + TIME_LIMIT

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                if not bodies:
                    return
                body = bodies.pop()
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("POST", "/api/v1/orders", body=body, headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {token}",
                    "Idempotency-Key": str(uuid.uuid4())})
                response = conn.getresponse()
                text = response.read()
                conn.close()
                status = response.status
            except OSError as exc:
                status, text = 0, repr(exc).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    latencies.append(elapsed)
                    answered = json.loads(text)["status"]
                    order_statuses[answered] = order_statuses.get(answered, 0) + 1
                elif len(failures) < 5:
                    failures.append(f"{status}: {text[:300]!r}")

    started = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.monotonic() - started
    return {"wall": wall, "placed": statuses.get(201, 0), "statuses": statuses,
            "order_statuses": order_statuses, "failures": failures, "latencies": latencies,
            "throughput": statuses.get(201, 0) / wall if wall else float("nan")}


def run(scale: Scale, ctx: dict) -> list[Row]:
    from oms.api import create_api_token

    catalogue = ctx.get("catalogue")
    if catalogue is None:
        from dataclasses import asdict

        from bench.common import build_catalogue

        catalogue = asdict(build_catalogue(products=scale.catalogue_products,
                                           customers=scale.catalogue_customers))
        ctx["catalogue"] = catalogue
    # An ERP-like token: orders for the catalogue's customers use their terms.
    _token, raw = create_api_token(name=f"bench-{uuid.uuid4().hex[:8]}",
                                   scopes=["orders", "catalogue:read"], all_customers=True)
    return [
        _compare(scale, catalogue, raw, app="bench.wsgi_placement:application",
                 name=f"POST /api/v1/orders (holds taken), gunicorn {WORKERS} workers",
                 target=True),
        _compare(scale, catalogue, raw, app="oms.wsgi:application",
                 name=f"POST /api/v1/orders + payment approval, gunicorn {WORKERS} workers",
                 target=False),
    ]


def _summed(counts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for count in counts:
        for key, value in count.items():
            total[key] = total.get(key, 0) + value
    return total


def _compare(scale: Scale, catalogue: dict, raw: str, *, app: str, name: str,
             target: bool) -> Row:
    """Requests and the SQL baseline alternating run by run."""
    ours, base = [], []
    with Gunicorn(app=app) as server:
        # Warm the workers (imports, first connections) outside the measurement.
        load(port=server.port, token=raw, orders=2 * WORKERS, threads=WORKERS,
             catalogue=catalogue, seed=7)
        for run_number in range(scale.runs):
            ours.append(load(port=server.port, token=raw, orders=scale.http_orders,
                             threads=scale.http_threads, catalogue=catalogue,
                             seed=run_number))
            base.append(measure(clients=WORKERS,
                                orders=max(1, scale.http_orders // WORKERS),
                                seed=run_number, catalogue=catalogue, sql=True))
    ours_tp = median([m["throughput"] for m in ours])
    base_tp = median([m["throughput"] for m in base])
    ratio = ours_tp / base_tp if base_tp else None
    latencies = [lat for m in ours for lat in m["latencies"]]
    statuses: dict[str, int] = {}
    for m in ours:
        for status, count in m["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    return Row(scenario="2", name=name, unit="orders/s", median=ours_tp, baseline=base_tp,
               ratio=ratio, runs=scale.runs, target=">= 0.33 x SQL" if target else "",
               met=((ratio >= 1 / 3) if ratio else None) if target else None,
               extra={"app": app, "latency_ms_p50": median(latencies),
                      "latency_ms_p95": percentile(latencies, 95),
                      "load_threads": scale.http_threads,
                      "orders_per_run": scale.http_orders, "statuses": statuses,
                      "order_statuses": _summed([m["order_statuses"] for m in ours]),
                      "failures": [f for m in ours for f in m["failures"]][:5],
                      "throughput_runs": [m["throughput"] for m in ours],
                      "baseline_runs": [m["throughput"] for m in base]})
