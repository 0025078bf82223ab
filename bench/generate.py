"""Fill the bench database with a back office at scale, fast: COPY through
psycopg, never the ORM row by row.

`generate(orders=1_000_000, customers=200_000, products=10_000)` writes
products with stock, customers with an address, orders of 3 lines each in
every lifecycle state that exists (draft, placed, on_hold, reserved,
backordered, expired, cancelled) over the last two years, their timeline
events, and the reservations an order in its state holds (holds for placed
and on hold, firm for reserved), with stock levels whose `reserved` equals
their active reservations. Secondary indexes are dropped for the load and
rebuilt after it (what a bulk load does); foreign keys are not checked row
by row (session_replication_role = replica), the generator keeps them true.

Run on its own: `python -m bench.generate --orders 20000 --customers 4000`.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

_FIRST_NAMES = ("Marie Jean Pierre Anne Louis Claire Paul Julie Nicolas Camille Thomas Sophie "
                "Lucas "
         "Emma Hugo Chloe Leo Lea Jules Manon Arthur Ines Adam Sarah Gabriel Alice Raphael "
         "Louise Nathan Zoe Tom Jade Ethan Lina Noah Rose Victor Anna Oscar Eva Martin Clara "
         "Maxime Laura Antoine Mathilde Simon Charlotte Axel Juliette")
_LAST_NAMES = ("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
               "Laurent "
        "Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard Andre "
        "Lefevre Mercier Dupont Lambert Bonnet Francois Martinez Legrand Garnier Faure Rousseau "
        "Blanc Guerin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clement Gauthier "
        "Dumont Lopez Fontaine Chevalier Robin Masson Sanchez Gerard Nguyen Boyer Denis Lemaire "
        "Duval Joly Gautier Roger Roche Roy Noel Meyer Lucas Meunier Jean Perez Marchand Dufour "
        "Blanchard Marie Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez Pierre Renard "
        "Arnaud Rolland Caron Aubert Giraud Leclerc Vidal Bourgeois Renaud Lemoine Picard "
        "Gaillard Philippe")
FIRST, LAST = _FIRST_NAMES.split(), _LAST_NAMES.split()
CITIES = ["Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bordeaux", "Toulouse", "Nice",
          "Rennes", "Strasbourg"]
# (status, share) of the generated orders. Orders of the last RECENT_DAYS
# are spread over every state; older ones have finished their life (paid,
# cancelled or expired, a few invoices still open), as in a real history.
# States the orders app does not have (yet) are left out at run time, so
# every state that exists is there.
RECENT_DAYS = 60
STATUSES = [("paid", 0.30), ("invoiced", 0.06), ("shipped", 0.05), ("packed", 0.02),
            ("picking", 0.03), ("reserved", 0.12), ("cancelled", 0.12), ("expired", 0.08),
            ("on_hold", 0.06), ("placed", 0.05), ("backordered", 0.04), ("draft", 0.07)]
OLD_STATUSES = [("paid", 0.78), ("invoiced", 0.02), ("cancelled", 0.12), ("expired", 0.08)]
# Which states hold stock (active reservations) and of which kind.
HOLDING = {"placed": "hold", "on_hold": "hold", "reserved": "firm", "picking": "firm",
           "packed": "firm"}
SHIPPED = {"shipped", "invoiced", "paid"}
HOLD_REASONS = ["new_customer", "credit_limit", "payment_declined", "prepayment_missing",
                "manual"]
CHANNELS = ["web", "web", "web", "phone", "store", "email", "api", "import"]
BATCH = 50_000
# Tables whose secondary indexes are dropped during the load.
LOADED_TABLES = ["orders_order", "orders_orderline", "orders_orderevent",
                 "customers_customer", "customers_address", "inventory_reservation"]


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _ts(value: datetime) -> str:
    return value.isoformat()


def _copy(cur, table: str, columns: str, buffer: io.StringIO) -> None:
    data = buffer.getvalue()
    if not data:
        return
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write(data)


def _drop_indexes(cur) -> list[str]:
    """Drop the non-constraint indexes of the loaded tables; their definitions."""
    cur.execute("""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
          FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
         WHERE t.relname = ANY(%s) AND NOT i.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    """, [LOADED_TABLES])
    found = cur.fetchall()
    for name, _definition in found:
        cur.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in found]


def generate(*, orders: int, customers: int, products: int, seed: int = 5,
             conninfo: str | None = None, verbose: bool = True) -> dict:
    """Empty the domain tables and load the data set; returns timings and samples."""
    import psycopg

    from bench.common import conninfo as default_conninfo
    from bench.common import ensure_column_defaults, seed_price_lists, truncate_data

    rng = random.Random(seed)
    timings: dict[str, float] = {}
    started = time.monotonic()
    truncate_data()
    ensure_column_defaults()
    now = datetime.now(UTC).replace(microsecond=0)
    year = now.year
    span = timedelta(days=730)
    conn = psycopg.connect(conninfo or default_conninfo(), autocommit=True)
    cur = conn.cursor()
    cur.execute("SET session_replication_role = replica")
    cur.execute("SET maintenance_work_mem = '512MB'")
    definitions = _drop_indexes(cur)
    try:
        # Catalogue: two warehouses (everything ships from MAIN), products.
        cur.execute("INSERT INTO inventory_warehouse (id, code, name, line1, line2, postal_code,"
                    " city, region, country, is_active) VALUES (1, 'MAIN', 'Main', '', '', '',"
                    " '', '', 'FR', true), (2, 'EAST', 'East', '', '', '', '', '', 'FR', true)")
        prices = [Decimal(rng.randint(200, 50_000)) / 100 for _ in range(products)]
        buf = io.StringIO()
        stamp = _ts(now)
        for i in range(products):
            buf.write(f"{i + 1}\tSKU-{i + 1:06d}\tProduct {i + 1} {rng.choice(LAST)}\t\t"
                      f"{prices[i]}\t20.00\t1.000\t10.0\t10.0\t10.0\tf\tt\t{stamp}\t{stamp}\n")
        _copy(cur, "inventory_product", "id, sku, name, description, unit_price, tax_rate,"
              " weight_kg, length_cm, width_cm, height_cm, is_fragile, is_active, created_at,"
              " updated_at", buf)
        seed_price_lists(cur)
        # Customers and one default shipping address each.
        cbuf, abuf = io.StringIO(), io.StringIO()
        for i in range(1, customers + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            created = _ts(now - span - timedelta(days=rng.randint(0, 365)))
            standing = "trusted" if i % 3 else "new"
            cbuf.write(f"{i}\tperson\t{name}\t{first.lower()}.{last.lower()}{i}@example.com\t"
                       f"+33 6 {i:08d}\t\ten\tcard\t0\t0.00\tEUR\t{standing}\tf\t\t"
                       f"{created}\t{created}\n")
            abuf.write(f"{i}\t{i}\tshipping\t{name}\t{i} rue de la Paix\t\t750{i % 20:02d}\t"
                       f"{rng.choice(CITIES)}\t\tFR\tt\t{created}\n")
        _copy(cur, "customers_customer", "id, kind, name, email, phone, vat_id,"
              " preferred_language, payment_preference, payment_terms_days, credit_limit,"
              " credit_limit_currency, standing, accepts_backorder, notes, created_at,"
              " updated_at", cbuf)
        _copy(cur, "customers_address", "id, customer_id, kind, name, line1, line2, postal_code,"
              " city, region, country, is_default, created_at", abuf)
        timings["catalogue_and_customers"] = time.monotonic() - started

        from orders.models import Order, OrderStatus

        existing = set(OrderStatus.values)
        statuses = [s for s, _share in STATUSES if s in existing]
        weights = [share for s, share in STATUSES if s in existing]
        old_statuses = [s for s, _share in OLD_STATUSES if s in existing]
        old_weights = [share for s, share in OLD_STATUSES if s in existing]
        recent_from = now - timedelta(days=RECENT_DAYS)
        has_shipped_at = any(f.column == "shipped_at" for f in Order._meta.concrete_fields)
        reserved_by_product = [0] * products
        line_id = event_id = reservation_id = 0
        order_cols = ("id, number, customer_id, channel, currency, status, hold_reason, hold_note,"
                      " shipping_address, billing_address, payment_method, total_net,"
                      " total_tax, total_gross, notes, created_at, updated_at, placed_at,"
                      " hold_expires_at, closed_at" + (", shipped_at" if has_shipped_at else ""))
        line_cols = ("id, order_id, position, product_id, sku, name, unit_price, tax_rate,"
                     " quantity, line_net")
        event_cols = "id, order_id, kind, created_at, from_status, to_status, reason, data"
        res_cols = ("id, order_id, order_line_id, product_id, warehouse_id, quantity, kind,"
                    " status, expires_at, created_at, updated_at, status_reason")
        hold_until = _ts(now + timedelta(days=30))
        step = span / max(orders, 1)
        load_started = time.monotonic()
        for batch_start in range(1, orders + 1, BATCH):
            obuf, lbuf, ebuf, rbuf = (io.StringIO() for _ in range(4))
            batch_end = min(orders, batch_start + BATCH - 1)
            for order_id in range(batch_start, batch_end + 1):
                customer_id = rng.randint(1, customers)
                created_dt = now - span + step * order_id
                if created_dt >= recent_from:
                    status = rng.choices(statuses, weights)[0]
                else:
                    status = rng.choices(old_statuses, old_weights)[0]
                created = _ts(created_dt)
                placed = "\\N" if status == "draft" else _ts(created_dt + timedelta(minutes=2))
                net = Decimal(0)
                line_products = rng.sample(range(products), 3)
                for position, product in enumerate(line_products, start=1):
                    line_id += 1
                    quantity = rng.randint(1, 4)
                    line_net = prices[product] * quantity
                    net += line_net
                    lbuf.write(f"{line_id}\t{order_id}\t{position}\t{product + 1}\t"
                               f"SKU-{product + 1:06d}\tProduct {product + 1}\t{prices[product]}"
                               f"\t20.00\t{quantity}\t{line_net}\n")
                    if status in HOLDING:
                        reservation_id += 1
                        kind = HOLDING[status]
                        expires = "\\N" if kind == "firm" else hold_until
                        rbuf.write(f"{reservation_id}\t{order_id}\t{line_id}\t{product + 1}\t1\t"
                                   f"{quantity}\t{kind}\tactive\t{expires}\t{created}\t"
                                   f"{created}\t\n")
                        reserved_by_product[product] += quantity
                tax = (net * Decimal("0.20")).quantize(Decimal("0.01"))
                hold_reason = rng.choice(HOLD_REASONS) if status == "on_hold" else ""
                hold_expires = hold_until if status in ("placed", "on_hold") else "\\N"
                closed = (_ts(created_dt + timedelta(hours=1))
                          if status in ("cancelled", "expired") else "\\N")
                shipped = ""
                if has_shipped_at:
                    shipped = "\t" + (_ts(created_dt + timedelta(days=1)) if status in SHIPPED
                                       else "\\N")
                address = json.dumps({"name": "Customer", "line1": f"{customer_id} rue de la "
                                      "Paix", "postal_code": "75001", "city": "Paris",
                                      "country": "FR"})
                obuf.write(f"{order_id}\tSO-{year}-{order_id:06d}\t{customer_id}\t"
                           f"{rng.choice(CHANNELS)}\tEUR\t{status}\t{hold_reason}\t\t{address}\t"
                           f"{address}\tcard\t{net}\t{tax}\t{net + tax}\t\t{created}\t{created}\t"
                           f"{placed}\t{hold_expires}\t{closed}{shipped}\n")
                event_id += 1
                ebuf.write(f"{event_id}\t{order_id}\tcreated\t{created}\t\tdraft\t\t{{}}\n")
                if status != "draft":
                    event_id += 1
                    ebuf.write(f"{event_id}\t{order_id}\tstatus_changed\t{placed}\tdraft\t"
                               f"{status}\t\t{{}}\n")
            _copy(cur, "orders_order", order_cols, obuf)
            _copy(cur, "orders_orderline", line_cols, lbuf)
            _copy(cur, "orders_orderevent", event_cols, ebuf)
            _copy(cur, "inventory_reservation", res_cols, rbuf)
            if verbose:
                print(f"  generated {batch_end:,} orders "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
        timings["orders_copy"] = time.monotonic() - load_started

        # Stock: MAIN holds the reserved units plus plenty; EAST a little.
        sbuf, mbuf = io.StringIO(), io.StringIO()
        for i in range(products):
            on_hand = reserved_by_product[i] + 1000
            sbuf.write(f"{i + 1}\t1\t{on_hand}\t{reserved_by_product[i]}\t10\t{stamp}\n"
                       f"{i + 1}\t2\t50\t0\t10\t{stamp}\n")
            mbuf.write(f"{i + 1}\t1\t{on_hand}\treceipt\topening stock\tbench\t{stamp}\n"
                       f"{i + 1}\t2\t50\treceipt\topening stock\tbench\t{stamp}\n")
        _copy(cur, "inventory_stocklevel", "product_id, warehouse_id, on_hand, reserved,"
              " reorder_level, updated_at", sbuf)
        _copy(cur, "inventory_stockmovement", "product_id, warehouse_id, quantity, kind, reason,"
              " reference, created_at", mbuf)
    finally:
        index_started = time.monotonic()
        for definition in definitions:
            cur.execute(definition)
        timings["indexes"] = time.monotonic() - index_started
        cur.execute("SET session_replication_role = origin")
    for table, column in [("orders_order", "id"), ("orders_orderline", "id"),
                          ("orders_orderevent", "id"), ("inventory_reservation", "id"),
                          ("customers_customer", "id"), ("customers_address", "id"),
                          ("inventory_product", "id"), ("inventory_warehouse", "id")]:
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                    f" GREATEST((SELECT MAX({column}) FROM {table}), 1))")
    cur.execute("SELECT setval('orders_order_number_seq', %s)", [max(orders, 1)])
    analyze_started = time.monotonic()
    cur.execute("VACUUM ANALYZE")
    timings["vacuum_analyze"] = time.monotonic() - analyze_started
    conn.close()
    timings["total"] = time.monotonic() - started
    return {"timings": timings, "orders": orders, "customers": customers,
            "products": products, "lines": line_id, "events": event_id,
            "reservations": reservation_id}


def main() -> None:
    import os

    import django

    parser = argparse.ArgumentParser(prog="python -m bench.generate")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=4_000)
    parser.add_argument("--products", type=int, default=1_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    result = generate(orders=args.orders, customers=args.customers, products=args.products)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
