"""Report files open with real readers (csv, openpyxl, pypdf) and hold the
figures of a known data set; formula cells are escaped; rows stream from a
named cursor in chunks."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.storage import default_storage
from openpyxl import load_workbook
from pypdf import PdfReader

from reporting import reports
from reporting.reports import ReportParams, builders
from tests.factories.customers import CustomerFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ProductFactory, make_order

pytestmark = pytest.mark.django_db


PARIS = ZoneInfo("Europe/Paris")
DAY = datetime(2026, 3, 10, tzinfo=PARIS)


@pytest.fixture
def known_sales():
    """Two orders on 10 March 2026: web 2 x MUG (20 net, 4 tax); phone 1 x MUG
    and 4 x a product whose name is a formula (10 + 20 net, 2 + 2 tax)."""
    warehouse = WarehouseFactory(code="MAIN")
    mug = ProductFactory(sku="MUG", name="Mug", unit_price=Decimal("10.00"),
                         tax_rate=Decimal("20.00"))
    evil = ProductFactory(sku="EVIL", name="=HYPERLINK(\"http://x\")",
                          unit_price=Decimal("5.00"), tax_rate=Decimal("10.00"))
    stock(mug, warehouse, 100)
    stock(evil, warehouse, 100)
    with time_machine.travel(DAY.replace(hour=10), tick=False):
        make_order(customer=CustomerFactory(kind="company"), lines=[(mug, 2)], channel="web")
        make_order(customer=CustomerFactory(kind="person"), lines=[(mug, 1), (evil, 4)],
                   channel="phone")
    with time_machine.travel(DAY + timedelta(days=1, hours=10), tick=False):
        make_order(lines=[(mug, 7)], channel="web")  # the next day: outside the period
    return {"mug": mug, "evil": evil, "warehouse": warehouse}


def _params(**filters) -> ReportParams:
    return ReportParams.from_filters(filters, start=DAY, end=DAY + timedelta(days=1),
                                     timezone="Europe/Paris")


def _build(fmt: str, **filters) -> tuple[builders.BuiltFile, bytes]:
    report = reports.get("sales_summary")
    params = _params(**filters)
    headline = [{"label": str(h.label), "value": h.value} for h in report.headline(params)]
    built = builders.build_file(report=report, params=params, fmt=fmt, basename="test",
                                context={"subscription": {"name": "Daily sales"},
                                         "report": report, "headline": headline,
                                         "run": {}, "period_last_day": DAY.date()},
                                chunk_size=1)
    with default_storage.open(built.path, "rb") as handle:
        content = handle.read()
    default_storage.delete(built.path)
    return built, content


def test_sales_summary_headline_has_orders_and_net_tax_gross_per_currency(known_sales):
    figures = {h.label: h.value for h in reports.get("sales_summary").headline(_params())}
    assert figures["Orders"] == "2"
    assert figures["Revenue net (EUR)"] == "50.00 EUR"
    assert figures["Tax (EUR)"] == "8.00 EUR"
    assert figures["Revenue gross (EUR)"] == "58.00 EUR"


def test_csv_opens_with_the_csv_module_and_holds_the_rows_by_day_channel_product(known_sales):
    built, content = _build("csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Day", "Channel", "SKU", "Product"]
    body = rows[1:]
    assert built.rows == len(body) == 3
    assert [(r[1], r[2], r[7], r[8], r[9]) for r in body] == [
        ("phone", "EVIL", "20.00", "2.00", "22.00"),
        ("phone", "MUG", "10.00", "2.00", "12.00"),
        ("web", "MUG", "20.00", "4.00", "24.00"),
    ]
    assert all(r[0] == "2026-03-10" for r in body)
    # a formula is text, never evaluated
    assert body[0][3] == "'=HYPERLINK(\"http://x\")"
    assert built.size == len(content)


def test_xlsx_opens_with_openpyxl_with_numbers_and_escaped_formula(known_sales):
    built, content = _build("xlsx")
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Day"
    assert len(rows) == 4 and built.rows == 3
    assert sum(Decimal(str(row[7])) for row in rows[1:]) == Decimal("50.00")
    assert sum(Decimal(str(row[9])) for row in rows[1:]) == Decimal("58.00")
    assert rows[1][3] == "'=HYPERLINK(\"http://x\")"


def test_pdf_text_holds_the_headline_and_every_row(known_sales):
    built, content = _build("pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert content.startswith(b"%PDF")
    assert built.rows == 3
    assert "Daily sales" in text
    assert "58.00 EUR" in text
    assert "EVIL" in text and "MUG" in text
    assert "24.00" in text
    assert "Orders placed per day" in text  # the period's chart, drawn above the rows


def test_the_period_chart_counts_the_orders_of_each_local_day(known_sales):
    chart = reports.get("sales_summary").chart(_params())
    assert chart.categories == ["10 Mar"]
    assert list(chart.series[0].values) == [2]  # the next day's order is outside the period


def test_filters_by_channel_and_customer_group_narrow_the_rows(known_sales):
    report = reports.get("sales_summary")
    assert reports.count_rows(report, _params(channel="web")) == 1
    assert reports.count_rows(report, _params(customer_group="person")) == 2
    assert reports.count_rows(report, _params(customer_group="new")) == 0
    assert reports.count_rows(report, _params(customer_group="trusted")) == 3
    assert reports.count_rows(report, _params(warehouse=known_sales["warehouse"].pk)) == 3


def test_rows_stream_from_a_named_server_side_cursor(known_sales, monkeypatch):
    from django.db import connection

    opened = []
    original = connection.chunked_cursor

    def spy():
        cursor = original()
        opened.append(cursor)
        return cursor

    monkeypatch.setattr(connection, "chunked_cursor", spy)
    built, _content = _build("csv")
    assert built.rows == 3
    assert len(opened) == 1
    assert opened[0].cursor.name  # a named (server-side) cursor


@pytest.mark.parametrize("key", sorted(reports.REGISTRY))
def test_every_report_runs_its_sql_and_headline(key, known_sales):
    report = reports.get(key)
    params = _params()
    assert report.headline(params)
    assert reports.count_rows(report, params) >= 0
    built, content = _build_any(report, params)
    assert built.rows == reports.count_rows(report, params)


def _build_any(report, params):
    built = builders.build_file(report=report, params=params, fmt="csv", basename=report.key,
                                context={})
    with default_storage.open(built.path, "rb") as handle:
        content = handle.read()
    default_storage.delete(built.path)
    return built, content


def test_low_stock_report_lists_levels_under_reorder_and_backordered_units(known_sales):
    from inventory.models import StockLevel

    StockLevel.objects.filter(product=known_sales["mug"]).update(reorder_level=200)
    report = reports.get("low_stock")
    rows = builders.preview_rows(report=report, params=_params())
    assert [row[0] for row in rows] == ["MUG"]


BIG = reports.Report(
    key="big", label="Big", description="", columns=[
        reports.Column("n", "int"), reports.Column("text"), reports.Column("amount", "money")],
    rows_sql="SELECT g, 'row ' || g, (g %% 1000)::numeric / 10 "
             "FROM generate_series(1, %(rows)s) AS g ORDER BY g",
    headline=lambda params: [])


@pytest.mark.parametrize(("fmt", "rows"), [("csv", 100_000), ("xlsx", 20_000)])
def test_a_large_export_streams_in_constant_memory(fmt, rows, monkeypatch):
    """The file grows with the rows, Python's memory does not: the peak stays
    near one chunk whatever the number of rows (a million rows would hold the
    same peak; fewer here to keep the suite quick)."""
    import tracemalloc

    monkeypatch.setattr(ReportParams, "sql", lambda self: {"rows": rows})
    tracemalloc.start()
    try:
        built = builders.build_file(report=BIG, params=_params(), fmt=fmt, basename="big",
                                    context={})
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    default_storage.delete(built.path)
    assert built.rows == rows
    assert built.size > 300_000
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a {built.size / 1e6:.1f} MB file"


def test_order_to_cash_gives_average_and_90th_percentile_and_stuck_orders(known_sales):
    from orders.models import EventKind, Order, OrderEvent

    orders = list(Order.objects.filter(placed_at__gte=DAY, placed_at__lt=DAY + timedelta(days=1))
                  .order_by("pk"))
    for order, hours in zip(orders, (2, 12), strict=True):
        OrderEvent.objects.create(order=order, kind=EventKind.STATUS_CHANGED,
                                  from_status="placed", to_status="reserved",
                                  created_at=order.placed_at + timedelta(hours=hours))
    # the first order moves on to the end of the cycle; the second sits reserved
    OrderEvent.objects.create(order=orders[0], kind=EventKind.STATUS_CHANGED,
                              from_status="reserved", to_status="shipped",
                              created_at=orders[0].placed_at + timedelta(hours=30))
    Order.objects.filter(pk=orders[0].pk).update(status="paid")
    Order.objects.filter(pk=orders[1].pk).update(status="reserved")
    params = ReportParams.from_filters({"stuck_days": 3}, start=DAY,
                                       end=DAY + timedelta(days=20), timezone="Europe/Paris")
    figures = {h.label: h.value for h in reports.get("order_to_cash").headline(params)}
    assert figures["Orders placed"] == "3"
    # hours to approval 2 and 12: average 7, percentile_cont(0.9) = 2 + 0.9 * 10 = 11
    assert figures["Hours to approval: average / 90th percentile"] == "7.0 / 11.0"
    assert figures["Hours to shipment: average / 90th percentile"] == "30.0 / 30.0"
    # stuck: the reserved one and the next day's order, still placed; not the paid one
    assert figures["Orders stuck over 3 days"] == "2"
    rows = builders.preview_rows(report=reports.get("order_to_cash"), params=params)
    assert [row[-1] for row in rows] == ["no", "yes", "yes"]
