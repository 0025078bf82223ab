"""Run the scenarios in order, print their rows, write the JSON and the
table in docs/benchmarks.md."""

from __future__ import annotations

import importlib
import os
import traceback
from urllib.parse import urlparse

from bench.common import SCALES, Row, print_row

# Scenario number -> module in bench.scenarios (all run in this order).
SCENARIOS = [
    ("1", "placement"),
    ("2", "http"),
    ("3", "hot"),
    ("4", "backoffice"),
    ("5", "invoices"),
    ("6", "expiry"),
    ("7", "allocation"),
]


def prepare_database() -> None:
    """Create the database of DATABASE_URL if missing, set Django up, migrate."""
    import django
    import psycopg
    from psycopg import sql

    url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oms"))
    dbname = url.path.lstrip("/")
    admin = psycopg.connect(host=url.hostname, port=url.port or 5432, user=url.username,
                            password=url.password, dbname="postgres", autocommit=True)
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                               [dbname]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run_suite(scale_name: str, *, only: set[str] | None = None,
              write_docs: bool = True) -> list[Row]:
    from bench import report

    scale = SCALES[scale_name]
    ctx: dict = {}
    rows: list[Row] = []
    for number, module_name in SCENARIOS:
        if only and number not in only:
            continue
        module = importlib.import_module(f"bench.scenarios.{module_name}")
        print(f"--- scenario {number}: {module.__doc__.splitlines()[0]}", flush=True)
        try:
            new_rows = module.run(scale, ctx)
        except Exception:
            traceback.print_exc()
            new_rows = [Row(scenario=number, name=f"{module_name} failed", unit="",
                            median=None, status="failed (see output)")]
        for row in new_rows:
            print_row(row, scale=scale.name)
        rows.extend(new_rows)
    report.write(rows, scale=scale, write_docs=write_docs, partial=bool(only))
    return rows
