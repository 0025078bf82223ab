"""Every benchmark scenario runs at tiny scale, so the bench code cannot rot.

The figures are meaningless at this size; what is checked is that each
scenario runs end to end against the real stack (spawned client processes,
gunicorn, COPY generator, expiry sweep) and that its correctness checks hold.
"""

from __future__ import annotations

import json

import pytest

from bench import report
from bench.common import SCALES, Row
from bench.scenarios import backoffice, expiry, hot, http, invoices, placement

TINY = SCALES["tiny"]
pytestmark = pytest.mark.django_db(transaction=True)


def _measured(rows: list[Row]) -> list[Row]:
    return [row for row in rows if row.status == "measured"]


def test_placement_through_services_and_sql_baseline_both_place_orders():
    rows = placement.run(TINY, {})
    targets = [row for row in rows if row.target]
    assert [row.extra["clients"] for row in targets] == list(TINY.placement_clients)
    with_approval = [row for row in rows if "approval" in row.name]
    assert len(with_approval) == 2 and not any(row.target for row in with_approval)
    for row in rows:
        assert row.median > 0 and row.baseline > 0 and row.ratio > 0
        assert row.extra["error_count"] == 0


def test_http_placement_under_gunicorn_answers_201():
    placement_only, with_approval = http.run(TINY, {})
    for row in (placement_only, with_approval):
        assert row.median > 0 and row.baseline > 0
        assert row.extra["statuses"] == {"201": TINY.http_orders}
    # The target row's server has no approver: orders answer placed (holds
    # taken); the deployed application approves the trusted card customers.
    assert placement_only.target and not with_approval.target
    assert placement_only.extra["order_statuses"] == {"placed": TINY.http_orders}
    assert with_approval.extra["order_statuses"] == {"reserved": TINY.http_orders}


def test_hot_skus_sell_out_without_oversell_or_failed_requests():
    throughput, proof = hot.run(TINY, {})
    assert throughput.extra["placed"] > 0 and throughput.extra["refused"] > 0
    assert all(proof.extra["checks"].values())
    assert proof.extra["failed_requests"] == 0 and proof.extra["deadlocks"] == 0
    assert proof.met is True


def test_back_office_pages_answer_with_constant_query_counts():
    rows = backoffice.run(TINY, {})
    pages = [row for row in _measured(rows) if row.unit == "ms" and row.name != "manager dashboard"]
    assert len(pages) == 14  # the list, search and detail pages, and the search box
    for row in pages:
        assert row.extra["statuses"] == [200], row.name
        assert len(row.extra["query_counts"]) == 1, row.name
    dashboard = next(row for row in rows if row.name == "manager dashboard")
    assert dashboard.extra["statuses"] == [200] and len(dashboard.extra["query_counts"]) == 1
    export = next(row for row in rows if row.name.startswith("CSV export"))
    assert export.extra["rows"] == TINY.orders


def test_invoice_pdfs_render_for_one_and_fifty_lines():
    rows = invoices.run(TINY, {})
    assert [row.name for row in rows] == ["invoice PDF, one page", "invoice PDF, 50 lines"]
    for row in rows:
        assert row.median > 0 and row.extra["starts_with_pdf"] is True


def test_expiry_sweep_releases_every_lapsed_hold():
    rows = expiry.run(TINY, {})
    assert rows[0].extra["all_released"] is True
    assert rows[0].extra["orders_expired"] == [TINY.expiry_holds // 3] * TINY.expiry_runs


def test_report_writes_json_and_regenerates_the_docs_table(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n<!-- bench:tiny:start -->\nold\n<!-- bench:tiny:end -->\n")
    rows = [Row(scenario="1", name="x", unit="orders/s", median=10.0, baseline=20.0, ratio=0.5,
                target=">= 0.5 x SQL", met=True),
            Row(scenario="5", name="pdf", unit="", median=None, status="not yet built")]
    report.write(rows, scale=TINY, write_docs=True, results_dir=tmp_path, docs=docs)
    data = json.loads((tmp_path / "latest-tiny.json").read_text())
    assert [r["name"] for r in data["rows"]] == ["x", "pdf"]
    text = docs.read_text()
    assert "old" not in text and "| 1 | x | 10.0 |" in text and "*not yet built*" in text


def test_allocation_on_receipt_covers_every_waiting_line():
    from bench.scenarios import allocation

    row, with_dispatch = allocation.run(TINY, {})
    assert with_dispatch.median >= row.median
    assert row.median > 0 and row.baseline > 0
    assert row.extra["all_covered"], row.extra["checks"]
    assert row.extra["lines_allocated"] == [TINY.allocation_orders * TINY.allocation_lines]
