"""The cost snapshot of order lines at placement and the margin reads (orders.costs,
orders.margins)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer
from inventory.models import ProductCost
from oms.models import ExchangeRate
from orders.margins import line_margin, order_margin, sold_margins
from orders.services import cancel_order
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db


def cost(product, currency: str, value: str) -> None:
    ProductCost.objects.create(product=product, currency=currency, cost=Decimal(value))


def usd_to_eur(value: str = "0.50") -> None:
    ExchangeRate.objects.create(base="USD", quote="EUR", rate=Decimal(value),
                                valid_from=date(2026, 1, 1))


def test_a_line_copies_the_cost_in_the_orders_currency():
    mug = stocked_product(unit_price=Decimal("10.00"))
    cost(mug, "EUR", "4.00")
    cost(mug, "USD", "9.99")
    line = make_order(lines=[(mug, 3)]).lines.get()
    assert line.unit_cost == Decimal("4.00")
    assert line_margin(line) == Decimal("18.00")  # 30.00 net - 3 x 4.00


def test_a_cost_in_another_currency_is_converted_at_placement():
    mug = stocked_product(unit_price=Decimal("10.00"))
    cost(mug, "USD", "6.00")
    usd_to_eur("0.50")
    order = make_order(lines=[(mug, 2)])
    line = order.lines.get()
    assert line.unit_cost == Decimal("3.00")
    margin = order_margin(order)
    assert (margin.net, margin.cost, margin.margin) == (
        Decimal("20.00"), Decimal("6.00"), Decimal("14.00"))
    assert margin.percent == Decimal("70")


def test_the_snapshot_stays_when_the_cost_or_the_rate_changes_later():
    mug = stocked_product(unit_price=Decimal("10.00"))
    cost(mug, "USD", "6.00")
    usd_to_eur("0.50")
    order = make_order(lines=[(mug, 1)])
    ProductCost.objects.filter(product=mug).update(cost=Decimal("9.00"))
    ExchangeRate.objects.create(base="USD", quote="EUR", rate=Decimal("1.00"),
                                valid_from=timezone.localdate())
    assert order.lines.get().unit_cost == Decimal("3.00")


def test_an_unknown_cost_is_unknown_never_a_full_margin():
    mug = stocked_product(unit_price=Decimal("10.00"))
    lamp = stocked_product(unit_price=Decimal("50.00"))
    cost(mug, "EUR", "4.00")
    order = make_order(lines=[(mug, 1), (lamp, 1)])
    lamp_line = order.lines.get(product=lamp)
    assert lamp_line.unit_cost is None
    assert line_margin(lamp_line) is None
    margin = order_margin(order)
    assert margin.margin == Decimal("6.00")  # the mug's only
    assert margin.unknown_net == Decimal("50.00") and margin.unknown_lines == 1


def test_a_cost_without_a_rate_to_the_orders_currency_is_unknown():
    mug = stocked_product(unit_price=Decimal("10.00"))
    cost(mug, "GBP", "4.00")  # no GBP rate at all
    order = make_order(lines=[(mug, 1)], currency="USD")
    assert order.lines.get().unit_cost is None
    assert order_margin(order).percent is None


def test_margins_per_product_and_customer_per_currency_leave_out_unsold_orders():
    mug = stocked_product(sku="MUG", name="Mug", unit_price=Decimal("10.00"))
    lamp = stocked_product(sku="LAMP", name="Lamp", unit_price=Decimal("40.00"))
    cost(mug, "EUR", "4.00")
    cost(lamp, "EUR", "30.00")
    ada: Customer = CustomerFactory(name="Ada")
    bob: Customer = CustomerFactory(name="Bob")
    make_order(customer=ada, lines=[(mug, 2), (lamp, 1)])
    make_order(customer=bob, lines=[(mug, 1)])
    make_order(customer=bob, lines=[(mug, 1)], currency="USD")
    cancelled = make_order(customer=bob, lines=[(lamp, 5)])
    cancel_order(order_id=cancelled.pk, actor=None, reason="Changed mind")
    since = timezone.now() - timedelta(days=1)

    by_product = {(group["order__currency"], group["sku"]):
                  None if margin.percent is None else margin.margin
                  for group, margin in sold_margins(placed_from=since, by="product")}
    assert by_product == {("EUR", "LAMP"): Decimal("10.00"), ("EUR", "MUG"): Decimal("18.00"),
                          ("USD", "MUG"): None}
    by_customer = {(group["order__currency"], group["order__customer__name"]): margin
                   for group, margin in sold_margins(placed_from=since, by="customer")}
    assert by_customer["EUR", "Ada"].margin == Decimal("22.00")
    assert by_customer["EUR", "Bob"].margin == Decimal("6.00")
    # The USD order's mug has an EUR cost and no rate: its margin is unknown.
    assert by_customer["USD", "Bob"].unknown_net == Decimal("10.00")
    assert by_customer["USD", "Bob"].percent is None
