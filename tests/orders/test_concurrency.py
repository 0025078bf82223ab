"""Concurrent placements on real PostgreSQL: numbers stay unique, stock is
never oversold through orders."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from inventory.api import InsufficientStock
from inventory.models import StockLevel
from orders.models import Order
from orders.services import LineInput, PlaceOrder, place_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.orders import stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


def _run_together(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_concurrent_placements_get_twenty_distinct_numbers():
    product = stocked_product(1000)
    customers = [CustomerFactory() for _ in range(20)]

    def place(index: int) -> str:
        order = place_order(PlaceOrder.parse({
            "customer": customers[index], "lines": [LineInput(product.sku, 1)],
            "channel": "web", "currency": "EUR", "shipping_address": address_data()}),
            actor=None)
        return order.number

    numbers = _run_together(20, place)
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

    results = _run_together(12, place)
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(placed) == 5 and len(refused) == 7, results
    assert Order.objects.count() == 5
    level = StockLevel.objects.get(product=product)
    assert level.reserved == level.on_hand == 5
