"""The manager dashboard's charts: the figures behind them and how they are drawn."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderStatus
from reporting import trends
from reporting.charts import Chart, Series, nice_ceiling
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ProductFactory, make_order
from tests.reporting.support import invoice_on_terms, milestone, placed_ago

NOW = datetime(2026, 3, 18, 11, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def product(db):
    item = ProductFactory(sku="MUG", unit_price=Decimal("10.00"), tax_rate=Decimal("20.00"))
    stock(item, WarehouseFactory(code="MAIN"), 1000)
    return item


def _series(chart: Chart) -> dict[str, list]:
    return {series.label: list(series.values) for series in chart.series}


def test_the_scale_reads_in_round_figures():
    assert [nice_ceiling(value) for value in (0, 0.4, 7, 13, 180, 2400, 2600)] == [
        1, 1, 10, 20, 200, 5000, 5000]


def test_bars_stand_in_proportion_and_a_missing_figure_draws_nothing():
    chart = Chart(key="k", title="t", kind="bars", categories=["a", "b", "c"],
                  series=[Series("s", [10, 5, None])])
    bars = chart.drawing()["bars"]
    assert len(bars) == 2
    assert bars[0]["height"] == pytest.approx(2 * bars[1]["height"], abs=0.2)
    assert bars[0]["title"] == "s, a: 10"
    assert chart.table() == [("a", ["10"]), ("b", ["5"]), ("c", ["–"])]


def test_a_long_axis_labels_at_most_twelve_categories():
    chart = Chart(key="k", title="t", kind="lines", categories=[str(n) for n in range(30)],
                  series=[Series("s", list(range(30)))])
    drawing = chart.drawing()
    assert len(drawing["labels"]) <= 12
    assert len(drawing["lines"][0]["dots"]) == 30
    assert [tick["text"] for tick in drawing["ticks"]] == ["0", "10", "20", "30", "40", "50"]


def test_a_chart_of_a_few_orders_counts_in_whole_orders():
    chart = Chart(key="k", title="t", kind="bars", categories=["a"], series=[Series("s", [2])])
    assert [tick["text"] for tick in chart.drawing()["ticks"]] == ["0", "1", "2", "3", "4", "5"]


@time_machine.travel(NOW, tick=False)
@pytest.mark.django_db
def test_orders_and_revenue_per_day_set_this_period_beside_the_one_before(product):
    placed_ago(make_order(lines=[(product, 1)], channel="web"), timedelta(days=1))
    placed_ago(make_order(lines=[(product, 2)]), timedelta(days=35))
    placed_ago(make_order(lines=[(product, 4)]), timedelta(days=70))  # before both periods
    cancelled = placed_ago(make_order(lines=[(product, 8)]), timedelta(days=2))
    Order.objects.filter(pk=cancelled.pk).update(status=OrderStatus.CANCELLED)

    orders, revenue, channels = trends.sales(today=timezone.localdate(), by="day")

    assert len(orders.categories) == 30
    assert orders.categories[-1] == "18 Mar"
    counts = _series(orders)
    assert sum(counts["This period"]) == 2 and counts["This period"][-2] == 1
    assert sum(counts["Period before"]) == 1
    (euro,) = revenue
    assert euro.title == "Net revenue in EUR"
    assert sum(_series(euro)["This period"]) == Decimal("10.00")  # the cancelled order is not sold
    assert sum(_series(euro)["Period before"]) == Decimal("20.00")
    by_channel = dict(zip(channels.categories, _series(channels)["This period"], strict=True))
    assert by_channel["Web shop"] == 1 and by_channel["Phone"] == 1


@time_machine.travel(NOW, tick=False)
@pytest.mark.django_db
def test_by_week_the_buckets_start_on_mondays(product):
    placed_ago(make_order(lines=[(product, 1)]), timedelta(days=2))  # Monday 16 March
    orders, _revenue, _channels = trends.sales(today=timezone.localdate(), by="week")
    assert len(orders.categories) == 12
    assert orders.categories[-1] == "16 Mar"
    assert _series(orders)["This period"][-1] == 1
    assert trends.bucket_starts(date(2026, 3, 18), "week")[-1] == date(2026, 3, 16)


@time_machine.travel(NOW, tick=False)
@pytest.mark.django_db
def test_stage_durations_count_each_order_in_the_bucket_of_each_step(product):
    order = placed_ago(make_order(lines=[(product, 1)]), timedelta(days=10))
    milestone(order, "reserved", timedelta(minutes=30))
    milestone(order, "shipped", timedelta(days=2, minutes=30))
    milestone(order, "invoiced", timedelta(days=2, hours=1))

    stages = _series(trends.stage_durations(today=timezone.localdate()))

    assert stages["Placement to approval"] == [1, 0, 0, 0, 0, 0, 0]  # under 1 h
    assert stages["Approval to shipment"] == [0, 0, 0, 1, 0, 0, 0]  # 1-3 days
    assert stages["Shipment to invoice"] == [1, 0, 0, 0, 0, 0, 0]
    assert stages["Invoice to payment"] == [0] * 7  # not paid yet


@pytest.mark.django_db
def test_aging_puts_what_is_owed_in_the_bucket_of_its_days_past_due(
        django_capture_on_commit_callbacks):
    invoice = invoice_on_terms(django_capture_on_commit_callbacks)

    assert _series(trends.receivables_aging(today=timezone.localdate()))[invoice.currency] == [
        invoice.total_gross, 0, 0, 0, 0]
    later = invoice.due_date + timedelta(days=45)
    assert _series(trends.receivables_aging(today=later))[invoice.currency] == [
        0, 0, invoice.total_gross, 0, 0]


@time_machine.travel(NOW, tick=False)
@pytest.mark.django_db
def test_on_time_rate_is_the_share_shipped_by_the_promised_date(product):
    today = timezone.localdate()
    late, on_time = make_order(lines=[(product, 1)]), make_order(lines=[(product, 1)])
    Order.objects.filter(pk=late.pk).update(shipped_at=timezone.now(),
                                            promised_delivery_date=today - timedelta(days=1))
    Order.objects.filter(pk=on_time.pk).update(shipped_at=timezone.now(),
                                               promised_delivery_date=today)

    chart = trends.on_time_shipping(today=today)

    rates = _series(chart)["On time"]
    assert rates[-1] == 50 and rates[:-1] == [None] * 11
    assert chart.table()[-1] == ("16 Mar", ["50 %"])


@time_machine.travel(NOW, tick=False)
@pytest.mark.django_db
def test_the_dashboard_draws_the_charts_with_their_figures(client_for, product):
    placed_ago(make_order(lines=[(product, 3)]), timedelta(hours=1))
    client = client_for("Manager")

    html = client.get(reverse("reporting:manager_dashboard")).content.decode()

    for key in ("orders", "revenue-eur", "channels", "on-time", "stages", "aging"):
        assert f'id="chart-{key}"' in html
    assert "<svg" in html and "<title>This period, 18 Mar: 1</title>" in html
    assert html.count("data-chart-empty") == 3  # nothing shipped, invoiced or owed yet
    assert "<td class=\"num\">€30.00</td>" in html  # the figures table under the revenue chart

    weekly = client.get(reverse("reporting:manager_dashboard"), {"by": "week"})
    assert "Orders placed per week" in weekly.content.decode()


@pytest.mark.django_db
def test_an_unknown_period_is_refused_with_a_message(client_for):
    response = client_for("Manager").get(reverse("reporting:manager_dashboard"), {"by": "year"})
    assert response.status_code == 400
    assert "Unknown period “year”" in response.content.decode()
