"""Factories for the orders app.

Orders are made through `orders.services.place_order`, never by writing a
status, so every test order has its lines, totals, holds and events.
"""

from __future__ import annotations

from decimal import Decimal

from inventory.models import Product, Warehouse
from orders.models import Order
from orders.payments import PaymentDetails
from orders.services import LineInput, PlaceOrder, place_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock


def stocked_product(quantity: int = 100, *, warehouse: Warehouse | None = None,
                    **fields) -> Product:
    product = ProductFactory(**fields)
    stock(product, warehouse or WarehouseFactory(code="MAIN"), quantity)
    return product


def make_order(*, customer=None, lines: list[tuple[Product, int]] | None = None,
               actor=None, channel: str = "phone", currency: str = "EUR",
               draft: bool = False, payment: PaymentDetails | None = None, **kwargs) -> Order:
    """A placed (or draft) order; stocks a product when no lines are given."""
    customer = customer or CustomerFactory()
    if lines is None:
        lines = [(stocked_product(unit_price=Decimal("10.00")), 2)]
    api_token = kwargs.pop("api_token", None)
    data = PlaceOrder.parse({
        "customer": customer, "lines": [LineInput(sku=p.sku, quantity=q) for p, q in lines],
        "channel": channel, "currency": currency,
        "shipping_address": kwargs.pop("shipping_address", address_data(name=customer.name)),
        "payment": payment, **kwargs})
    return place_order(data, actor=actor, draft=draft, api_token=api_token)
