"""The manager dashboard's figures: right numbers from a fixed, small number
of aggregate queries whatever the number of orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, OrderStatus
from orders.services import cancel_order
from reporting import selectors
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ProductFactory, make_order
from tests.reporting.support import invoice_on_terms, milestone, placed_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    item = ProductFactory(sku="MUG", unit_price=Decimal("10.00"), tax_rate=Decimal("20.00"))
    stock(item, WarehouseFactory(code="MAIN"), 1000)
    return item


def test_orders_today_week_and_month_with_revenue_per_currency(product):
    now = timezone.now()
    today, week, month = selectors.period_starts(now)
    make_order(lines=[(product, 1)])  # today: 10 net, 12 gross
    make_order(lines=[(product, 2)], currency="USD")  # today, another currency
    cancelled = make_order(lines=[(product, 5)])
    cancel_order(order_id=cancelled.pk, actor=None, reason="changed mind")
    older = placed_ago(make_order(lines=[(product, 3)]), timedelta(days=400))

    counts, revenue = selectors.placed_orders_summary(now=now)

    assert counts["today"] == 3  # the cancelled order was placed today too
    by_currency = {row.currency: row for row in revenue}
    assert by_currency["EUR"].net_today == Decimal("10.00")  # cancelled not sold
    assert by_currency["EUR"].gross_today == Decimal("12.00")
    assert by_currency["USD"].net_today == Decimal("20.00")
    assert by_currency["EUR"].gross_month == Decimal("12.00")
    assert older.placed_at < min(week, month)


def test_week_counts_orders_since_monday_and_not_before(product):
    now = timezone.now()
    today, week, _month = selectors.period_starts(now)
    inside = make_order(lines=[(product, 1)])
    Order.objects.filter(pk=inside.pk).update(placed_at=week + timedelta(minutes=1))
    outside = make_order(lines=[(product, 1)])
    Order.objects.filter(pk=outside.pk).update(placed_at=week - timedelta(minutes=1))

    counts, _revenue = selectors.placed_orders_summary(now=now)

    assert counts["week"] == 1
    assert counts["today"] == (1 if week == today else 0)  # on a Monday the week is today


def test_orders_by_status_counts_open_states_and_recent_terminal_ones(product):
    make_order(lines=[(product, 1)])
    make_order(lines=[(product, 1)])
    old = make_order(lines=[(product, 1)])
    cancel_order(order_id=old.pk, actor=None, reason="old")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=60))
    recent = make_order(lines=[(product, 1)])
    cancel_order(order_id=recent.pk, actor=None, reason="recent")
    make_order(lines=[(product, 1)], draft=True)

    counts = {row.status: row for row in selectors.orders_by_status()}

    assert counts[OrderStatus.PLACED].count == 2
    assert counts[OrderStatus.DRAFT].count == 1
    assert counts[OrderStatus.CANCELLED].count == 1  # the 60-day-old one is out of the window
    assert counts[OrderStatus.CANCELLED].terminal
    assert counts[OrderStatus.RESERVED].count == 0  # open states always listed


def test_lead_times_average_the_milestone_events_from_placement(product):
    first, second = make_order(lines=[(product, 1)]), make_order(lines=[(product, 1)])
    milestone(first, "shipped", timedelta(hours=10))
    milestone(second, "shipped", timedelta(hours=30))
    milestone(first, "paid", timedelta(days=5))
    old = placed_ago(make_order(lines=[(product, 1)]), timedelta(days=200))
    milestone(old, "shipped", timedelta(days=1))  # shipped 199 days ago: outside the window

    result = selectors.lead_times()

    assert result["shipped"].average == timedelta(hours=20)
    assert result["shipped"].orders == 2
    assert result["paid"].average == timedelta(days=5)
    assert result["paid"].days == 5


def test_lead_times_without_milestones_are_unknown_not_zero(product):
    make_order(lines=[(product, 1)])
    result = selectors.lead_times()
    assert result["shipped"].average is None
    assert result["shipped"].orders == 0


def test_low_stock_lists_products_at_or_below_their_reorder_level(product):
    scarce = ProductFactory(sku="SCARCE")
    level = stock(scarce, WarehouseFactory(code="SIDE"), 2)
    type(level).objects.filter(pk=level.pk).update(reorder_level=5)

    report = selectors.manager_dashboard()

    assert [level.product.sku for level in report.low_stock] == ["SCARCE"]


def test_the_dashboard_costs_the_same_few_queries_for_3_or_30_orders(
        product, django_assert_max_num_queries):
    for _ in range(3):
        milestone(make_order(lines=[(product, 1)]), "shipped", timedelta(hours=5))
    with CaptureQueriesContext(connection) as few:
        selectors.manager_dashboard()
    for _ in range(27):
        milestone(make_order(lines=[(product, 1)]), "shipped", timedelta(hours=5))
    with CaptureQueriesContext(connection) as many:
        report = selectors.manager_dashboard()
    assert len(many) == len(few)
    assert report.orders_today == 30
    # ... and two for the customer ratings (weeks, the lowest five)
    with django_assert_max_num_queries(8):
        selectors.manager_dashboard()


def test_overdue_receivables_sum_what_is_still_owed_past_the_due_date(
        django_capture_on_commit_callbacks):
    invoice = invoice_on_terms(django_capture_on_commit_callbacks)
    assert selectors.overdue_receivables() == []  # not due yet

    later = timezone.now() + timedelta(days=(invoice.due_date - timezone.localdate()).days + 2)
    overdue = selectors.overdue_receivables(now=later)

    assert [(row.currency, row.amount, row.invoices) for row in overdue] == [
        (invoice.currency, invoice.total_gross, 1)]
