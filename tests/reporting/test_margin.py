"""Margin in the sales report (rows and headline) and on the manager dashboard:
costs known, converted, unknown; query counts that do not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import ProductCost
from oms.models import ExchangeRate
from reporting import reports, selectors
from reporting.reports import ReportParams, builders
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ProductFactory, make_order

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
DAY = datetime(2026, 3, 10, tzinfo=PARIS)


@pytest.fixture
def costed_sales():
    """On 10 March: web 2 x MUG (cost 4.00 EUR each), phone 1 x MUG and
    1 x LAMP (no cost known), and a USD order of 3 x MUG whose cost is
    converted from EUR (1 EUR = 1.20 USD: 4.80 USD)."""
    warehouse = WarehouseFactory(code="MAIN")
    mug = ProductFactory(sku="MUG", name="Mug", unit_price=Decimal("10.00"))
    lamp = ProductFactory(sku="LAMP", name="Lamp", unit_price=Decimal("50.00"))
    stock(mug, warehouse, 100)
    stock(lamp, warehouse, 100)
    ProductCost.objects.create(product=mug, currency="EUR", cost=Decimal("4.00"))
    ExchangeRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.20"),
                                valid_from=date(2026, 1, 1))
    with time_machine.travel(DAY.replace(hour=10), tick=False):
        make_order(lines=[(mug, 2)], channel="web")
        make_order(lines=[(mug, 1), (lamp, 1)], channel="phone")
        make_order(lines=[(mug, 3)], channel="web", currency="USD")
    return {"mug": mug, "lamp": lamp}


def _params() -> ReportParams:
    return ReportParams.from_filters({}, start=DAY, end=DAY + timedelta(days=1),
                                     timezone="Europe/Paris")


def test_sales_rows_have_cost_and_margin_and_unknown_for_an_unknown_cost(costed_sales):
    report = reports.get("sales_summary")
    built = builders.build_file(report=report, params=_params(), fmt="csv", basename="margin",
                                context={})
    from django.core.files.storage import default_storage

    with default_storage.open(built.path, "rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    assert rows[0][-2:] == ["Cost", "Margin"]
    assert [(r[1], r[2], r[4], r[7], r[10], r[11]) for r in rows[1:]] == [
        ("phone", "LAMP", "EUR", "50.00", "unknown", "unknown"),
        ("phone", "MUG", "EUR", "10.00", "4.00", "6.00"),
        ("web", "MUG", "EUR", "20.00", "8.00", "12.00"),
        ("web", "MUG", "USD", "30.00", "14.40", "15.60"),
    ]


def test_the_headline_gives_the_margin_per_currency_and_the_net_it_leaves_out(costed_sales):
    figures = {h.label: h.value for h in reports.get("sales_summary").headline(_params())}
    assert figures["Margin (EUR)"] == "18.00 EUR (60.0 %)"  # 30.00 net, 12.00 cost
    assert figures["Net of lines with unknown cost (EUR)"] == "50.00 EUR"
    assert figures["Margin (USD)"] == "15.60 USD (52.0 %)"
    assert "Net of lines with unknown cost (USD)" not in figures


def test_the_dashboard_shows_this_months_margin_and_the_unknown_part(costed_sales, client_for):
    with time_machine.travel(DAY.replace(hour=12), tick=False):
        report = selectors.manager_dashboard()
        html = client_for("Manager").get(reverse("reporting:manager_dashboard")).content.decode()
    margins = {m.currency: m for m in report.margins}
    assert (margins["EUR"].margin, margins["EUR"].unknown_net) == (Decimal("18.00"),
                                                                   Decimal("50.00"))
    assert margins["USD"].margin == Decimal("15.60")
    assert 'id="report-margin"' in html
    assert 'data-kpi="margin-EUR">€18.00<' in html
    assert 'data-kpi="margin-USD">$15.60<' in html
    assert "1 line" in html


def test_a_month_of_unknown_costs_shows_unknown_not_a_full_margin(client_for):
    warehouse = WarehouseFactory(code="MAIN")
    lamp = ProductFactory(sku="LAMP", unit_price=Decimal("50.00"))
    stock(lamp, warehouse, 10)
    make_order(lines=[(lamp, 1)])
    html = client_for("Manager").get(reverse("reporting:manager_dashboard")).content.decode()
    assert 'data-kpi="margin-EUR">unknown<' in html


def test_the_margin_costs_one_query_whatever_the_number_of_orders(costed_sales):
    mug = costed_sales["mug"]
    with time_machine.travel(DAY.replace(hour=12), tick=False):
        with CaptureQueriesContext(connection) as few:
            selectors.manager_dashboard()
        for _ in range(10):
            make_order(lines=[(mug, 1), (costed_sales["lamp"], 1)])
        with CaptureQueriesContext(connection) as many:
            selectors.manager_dashboard()
        with CaptureQueriesContext(connection) as margin:
            selectors.month_margins()
    assert len(many) == len(few)
    assert len(margin) == 1
