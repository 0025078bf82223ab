"""What every scenario shares: scales, statistics, result rows, the bench
database, the catalogue the placement scenarios order from, and client
processes that each set Django up on their own connection."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal

# --- scales ---------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    name: str
    runs: int  # repetitions of each throughput measurement
    # (1) placement: orders per client process per run, by client count
    placement_clients: tuple[int, ...]
    placement_orders: dict[int, int]
    catalogue_products: int
    catalogue_customers: int
    # (2) HTTP
    http_orders: int
    http_threads: int
    # (3) hot SKUs
    hot_clients: int
    hot_processes: int
    hot_stock: int  # units of each of the 5 hot products
    # (4) back office
    orders: int
    customers: int
    products: int
    samples: int  # requests per page kind
    # (6) expiry
    expiry_holds: int
    expiry_runs: int
    # (7) allocation on receipt: backordered orders x waiting lines each
    allocation_orders: int = 1_000
    allocation_lines: int = 10


SCALES = {
    # The smoke test: every scenario in seconds.
    "tiny": Scale(name="tiny", runs=1, placement_clients=(1, 2), placement_orders={1: 4, 2: 3},
                  catalogue_products=30, catalogue_customers=20, http_orders=12, http_threads=2,
                  hot_clients=4, hot_processes=1, hot_stock=6, orders=600, customers=100,
                  products=50, samples=3, expiry_holds=90, expiry_runs=1,
                  allocation_orders=20, allocation_lines=3),
    # `make bench`: a few minutes.
    "small": Scale(name="small", runs=3, placement_clients=(1, 2, 8),
                   placement_orders={1: 150, 2: 100, 8: 40}, catalogue_products=1000,
                   catalogue_customers=400, http_orders=200, http_threads=4, hot_clients=32,
                   hot_processes=4, hot_stock=150, orders=50_000, customers=10_000,
                   products=1_000, samples=25, expiry_holds=10_000, expiry_runs=3),
    # `BENCH_SCALE=full make bench`: the million-order back office.
    "full": Scale(name="full", runs=3, placement_clients=(1, 2, 8),
                  placement_orders={1: 300, 2: 200, 8: 80}, catalogue_products=10_000,
                  catalogue_customers=2_000, http_orders=400, http_threads=4, hot_clients=32,
                  hot_processes=4, hot_stock=300, orders=1_000_000, customers=200_000,
                  products=10_000, samples=40, expiry_holds=100_000, expiry_runs=2),
}


# --- statistics and rows ---------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    """One printed line of results and one entry of the JSON."""

    scenario: str  # "1", "2", ... as numbered in docs/benchmarks.md
    name: str
    unit: str  # "orders/s", "ms", "s"
    median: float | None
    p95: float | None = None
    baseline: float | None = None  # same unit, measured in the same run
    ratio: float | None = None  # ours / baseline (throughput) or baseline-free
    target: str = ""
    met: bool | None = None
    queries: int | None = None
    runs: int = 0
    extra: dict = field(default_factory=dict)
    status: str = "measured"  # or "not yet built"

    def as_dict(self) -> dict:
        return asdict(self)


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if value != value:  # NaN
        return "n/a"
    if 0 < abs(value) < 1 and digits < 3:
        digits = 3  # sub-second timings and small ratios keep their figures
    return f"{value:,.{digits}f}"


def print_row(row: Row, *, scale: str) -> None:
    cores = os.cpu_count()
    if row.status != "measured":
        print(f"[{row.scenario}] {row.name:<46} {row.status}", flush=True)
        return
    parts = [f"[{row.scenario}] {row.name:<46}", f"median {fmt(row.median)} {row.unit}"]
    if row.p95 is not None:
        parts.append(f"p95 {fmt(row.p95)}")
    if row.baseline is not None:
        parts.append(f"baseline {fmt(row.baseline)}")
    if row.ratio is not None:
        parts.append(f"ratio {fmt(row.ratio, 2)}")
    if row.queries is not None:
        parts.append(f"queries {row.queries}")
    if row.target:
        verdict = {True: "met", False: "MISSED", None: ""}[row.met]
        parts.append(f"target {row.target} {verdict}".rstrip())
    parts.append(f"cores {cores} scale {scale}")
    print("  ".join(parts), flush=True)


# --- the database ------------------------------------------------------------


def db_settings() -> dict:
    from django.db import connection

    return dict(connection.settings_dict)


def conninfo(settings_dict: dict | None = None) -> str:
    """psycopg connection string of the database Django uses."""
    s = settings_dict or db_settings()
    parts = {"dbname": s["NAME"], "user": s.get("USER") or "", "host": s.get("HOST") or "",
             "port": str(s.get("PORT") or ""), "password": s.get("PASSWORD") or ""}
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)


def database_url(settings_dict: dict | None = None) -> str:
    s = settings_dict or db_settings()
    auth = s.get("USER") or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


# Every table a scenario writes; emptied before each data set is built.
DATA_TABLES = [
    "orders_pricelistentry", "orders_pricelist",
    "orders_orderevent", "orders_orderline", "orders_order",
    "inventory_reservation", "inventory_stockmovement", "inventory_stocklevel",
    "inventory_binlocation", "inventory_product", "inventory_warehouse",
    "customers_address", "customers_customer", "oms_outboxmessage",
    "oms_idempotencyrecord",
]


def seed_price_lists(cur) -> None:
    """A catalogue default list per configured currency, every product at its
    `unit_price` (as the migration seeds an existing catalogue)."""
    from django.conf import settings

    for currency in settings.CURRENCIES:
        cur.execute("INSERT INTO orders_pricelist (name, currency, created_at, updated_at)"
                    " VALUES (%s, %s, now(), now()) RETURNING id",
                    [f"Catalogue {currency}", currency])
        (list_id,) = cur.fetchone()
        cur.execute("INSERT INTO orders_pricelistentry (price_list_id, product_id,"
                    " min_quantity, unit_price) SELECT %s, id, 1, unit_price"
                    " FROM inventory_product WHERE unit_price > 0", [list_id])


def truncate_data() -> None:
    """Empty the domain tables (and whatever references them) of the bench DB."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        existing = {row[0] for row in cursor.fetchall()}
        tables = [t for t in DATA_TABLES if t in existing]
        # billing and later apps reference orders: CASCADE empties them too.
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        # The order-number sequence is not owned by a table: restart it too.
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = 'orders_order_number_seq'")
        if cursor.fetchone():
            cursor.execute("ALTER SEQUENCE orders_order_number_seq RESTART")


def ensure_column_defaults() -> list[str]:
    """Give every NOT NULL column of the written tables without a database
    default the model field's default, in the bench database.

    The bench writes rows with COPY and plain SQL naming the columns it knows;
    a column another app adds later (with a model default) then keeps the
    loaders working instead of failing on NOT NULL. Django's own INSERTs name
    every column, so this changes nothing in the product's behaviour.
    """
    import json

    from django.apps import apps
    from django.db import connection

    models = {m._meta.db_table: m for m in apps.get_models()}
    changed = []
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = ANY(%s) AND is_nullable = 'NO'
               AND column_default IS NULL AND is_identity = 'NO'""",
                       [[t for t in DATA_TABLES if t in models]])
        for table, column in cursor.fetchall():
            field = next((f for f in models[table]._meta.concrete_fields if f.column == column),
                         None)
            # Django's default, or "" for a text column without one (what a
            # blank form value saves); columns with neither are the loaders' job.
            value = field.get_default() if field is not None else None
            if value is None:
                continue
            if isinstance(value, dict | list):
                value = json.dumps(value)
            cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT %s',
                           [value])
            changed.append(f"{table}.{column}")
    return changed


def bench_user(username: str = "bench", role: str = "Manager"):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@bench.example"})
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return user


# --- the catalogue the placement scenarios order from -----------------------

APPROVED_CARD = "4242424242424242"  # billing's sandbox approves it


def address(name: str) -> dict:
    return {"name": name, "line1": "1 Bench Street", "postal_code": "75001",
            "city": "Paris", "country": "FR"}


@dataclass(frozen=True)
class Catalogue:
    skus: list[str]
    customer_ids: list[int]
    emails: list[str]
    stock_ids: dict[str, int]  # sku -> stock level id (warehouse MAIN)
    product_ids: dict[str, int]
    prices: dict[str, Decimal]


def build_catalogue(*, products: int, customers: int, stock: int = 10_000_000,
                    hot: int = 0, hot_stock: int = 0) -> Catalogue:
    """Products stocked in one warehouse and trusted card customers, written
    with COPY (fast, and not what is measured). `hot` products get
    `hot_stock` units each and SKUs HOT-1..HOT-n."""
    import psycopg

    truncate_data()
    ensure_column_defaults()
    rows = [(f"B-{i:06d}", f"Bench product {i}", Decimal(10 + i % 90) + Decimal("0.99"), stock)
            for i in range(1, products + 1)]
    rows += [(f"HOT-{i}", f"Hot product {i}", Decimal("19.99"), hot_stock)
             for i in range(1, hot + 1)]
    with psycopg.connect(conninfo()) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO inventory_warehouse (code, name, line1, line2, postal_code,"
                    " city, region, country, is_active) VALUES ('MAIN', 'Main warehouse', '',"
                    " '', '', '', '', 'FR', true) RETURNING id")
        (warehouse_id,) = cur.fetchone()
        with cur.copy("COPY inventory_product (sku, name, description, unit_price, tax_rate,"
                      " weight_kg, length_cm, width_cm, height_cm, is_fragile, is_active,"
                      " created_at, updated_at) FROM STDIN") as copy:
            for sku, name, price, _stock in rows:
                copy.write_row((sku, name, "", price, Decimal("20.00"), Decimal("1.000"),
                                Decimal("10"), Decimal("10"), Decimal("10"), False, True,
                                "now", "now"))
        seed_price_lists(cur)
        cur.execute("SELECT sku, id, unit_price FROM inventory_product")
        product_ids, prices = {}, {}
        for sku, pid, price in cur.fetchall():
            product_ids[sku], prices[sku] = pid, price
        with cur.copy("COPY inventory_stocklevel (product_id, warehouse_id, on_hand, reserved,"
                      " reorder_level, updated_at) FROM STDIN") as copy:
            for sku, _name, _price, units in rows:
                copy.write_row((product_ids[sku], warehouse_id, units, 0, 0, "now"))
        with cur.copy("COPY inventory_stockmovement (product_id, warehouse_id, quantity, kind,"
                      " reason, reference, created_at) FROM STDIN") as copy:
            for sku, _name, _price, units in rows:
                if units:
                    copy.write_row((product_ids[sku], warehouse_id, units, "receipt",
                                    "opening stock", "bench", "now"))
        with cur.copy("COPY customers_customer (kind, name, email, phone, vat_id,"
                      " preferred_language, payment_preference, payment_terms_days,"
                      " credit_limit, credit_limit_currency, standing, accepts_backorder, notes,"
                      " created_at, updated_at) FROM STDIN") as copy:
            for i in range(1, customers + 1):
                copy.write_row(("person", f"Bench customer {i}", f"bench{i}@bench.example",
                                f"+3360000{i:04d}", "", "en", "card", 0, Decimal("0"),
                                "EUR", "trusted", False, "", "now", "now"))
        cur.execute("SELECT id, email FROM customers_customer ORDER BY id")
        customer_rows = cur.fetchall()
        cur.execute("SELECT p.sku, s.id FROM inventory_stocklevel s"
                    " JOIN inventory_product p ON p.id = s.product_id")
        stock_ids = dict(cur.fetchall())
        cur.execute("ANALYZE")
        conn.commit()
    return Catalogue(skus=[r[0] for r in rows if not r[0].startswith("HOT-")],
                     customer_ids=[r[0] for r in customer_rows],
                     emails=[r[1] for r in customer_rows], stock_ids=stock_ids,
                     product_ids=product_ids, prices=prices)


# --- client processes --------------------------------------------------------


def child_environment(settings_dict: dict) -> dict:
    """What a spawned client needs to reach the same database as the parent
    (under pytest that is the test database, not DATABASE_URL's)."""
    return {"DATABASE_URL": database_url(settings_dict),
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                     "bench.settings")}


def setup_django_child(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def _client_main(target: Callable, env: dict, args: dict, barrier, results) -> None:
    try:
        if env is not None:
            setup_django_child(env)
        state = target(prepare=True, **args)
        barrier.wait(timeout=300)
        started = time.monotonic()
        outcome = target(prepare=False, state=state, **args)
        finished = time.monotonic()
        results.put({"ok": True, "started": started, "finished": finished, **outcome})
    except BaseException as exc:  # reported to the parent, never swallowed
        import traceback

        results.put({"ok": False, "error": f"{exc!r}\n{traceback.format_exc()}"})


def run_clients(target: Callable, arg_list: list[dict], *, django_env: dict | None,
                timeout: float = 900) -> tuple[float, list[dict]]:
    """Start one spawned process per entry of `arg_list`, release them
    together, and return (wall seconds from release to the last finish,
    each process's outcome). `target(prepare=True, **args)` runs before the
    start line and returns a state; `target(prepare=False, state=...)` is
    the measured part and returns a dict."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(arg_list))
    results = ctx.Queue()
    processes = [ctx.Process(target=_client_main,
                             args=(target, django_env, args, barrier, results), daemon=True)
                 for args in arg_list]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=timeout) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    failed = [o["error"] for o in outcomes if not o["ok"]]
    if failed:
        raise RuntimeError("a client process failed:\n" + failed[0])
    wall = max(o["finished"] for o in outcomes) - min(o["started"] for o in outcomes)
    return wall, outcomes


def stock_levels_off() -> int:
    """Stock levels whose `reserved` differs from their active reservations
    (0 after every scenario)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""SELECT count(*) FROM inventory_stocklevel s WHERE s.reserved <>
                          (SELECT coalesce(sum(quantity), 0) FROM inventory_reservation r
                            WHERE r.product_id = s.product_id
                              AND r.warehouse_id = s.warehouse_id AND r.status = 'active')""")
        (drifted,) = cursor.fetchone()
    return drifted
