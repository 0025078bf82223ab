"""Concurrent placements on real PostgreSQL: numbers stay unique, stock is
never oversold through orders."""

from __future__ import annotations

import pytest

from inventory.api import InsufficientStock
from inventory.models import StockLevel
from orders.models import Order
from orders.services import LineInput, PlaceOrder, place_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.orders import stocked_product
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)




def test_twenty_concurrent_placements_get_twenty_distinct_numbers():
    product = stocked_product(1000)
    customers = [CustomerFactory() for _ in range(20)]

    def place(index: int) -> str:
        order = place_order(PlaceOrder.parse({
            "customer": customers[index], "lines": [LineInput(product.sku, 1)],
            "channel": "web", "currency": "EUR", "shipping_address": address_data()}),
            actor=None)
        return order.number

    numbers = race(20, place)
    assert all(isinstance(n, str) for n in numbers), numbers
    assert len(set(numbers)) == 20
    assert Order.objects.count() == 20
    assert StockLevel.objects.get(product=product).reserved == 20


def test_concurrent_orders_for_the_last_units_never_oversell():
    product = stocked_product(5)
    customers = [CustomerFactory() for _ in range(12)]

    def place(index: int):
        return place_order(PlaceOrder.parse({
            "customer": customers[index], "lines": [LineInput(product.sku, 1)],
            "channel": "web", "currency": "EUR", "shipping_address": address_data()}),
            actor=None)

    results = race(12, place)
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(placed) == 5 and len(refused) == 7, results
    assert Order.objects.count() == 5
    level = StockLevel.objects.get(product=product)
    assert level.reserved == level.on_hand == 5
