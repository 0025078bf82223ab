"""Fixtures shared by the capture-channel tests (API, import, entry).

Imported explicitly by those test modules; no conftest so other test
folders are unaffected.
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from customers.models import Customer
from inventory.models import Product, Warehouse
from oms.api import create_api_token
from oms.models import ApiScope
from orders.models import Order
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock

ORDER_BODY = {
    "customer": {"email": "ada@example.com", "name": "Ada Lovelace", "phone": "+33 1 23 45 67 89"},
    "lines": [{"sku": "MUG-1", "quantity": 2}, {"sku": "TEA-1", "quantity": 3}],
    "shipping_address": {"name": "Ada Lovelace", "line1": "1 Rue de Rivoli",
                         "postal_code": "75001", "city": "Paris", "country": "FR"},
    "currency": "EUR",
    "payment": {"method": "bank_transfer"},
}


def order_body(**changes) -> dict:
    body = copy.deepcopy(ORDER_BODY)
    body.update(changes)
    return body


@pytest.fixture
def catalogue(db) -> dict[str, Product]:
    """Two active products with stock in one warehouse, one inactive product."""
    warehouse: Warehouse = WarehouseFactory(code="LYO", name="Lyon")
    mug = ProductFactory(sku="MUG-1", name="Mug", unit_price=Decimal("9.99"),
                         tax_rate=Decimal("20.00"))
    tea = ProductFactory(sku="TEA-1", name="Tea", unit_price=Decimal("4.55"),
                         tax_rate=Decimal("5.50"))
    old = ProductFactory(sku="OLD-1", name="Old", is_active=False)
    stock(mug, warehouse, 50)
    stock(tea, warehouse, 50)
    return {"MUG-1": mug, "TEA-1": tea, "OLD-1": old, "warehouse": warehouse}


@pytest.fixture
def api_token(db) -> str:
    _token, raw = create_api_token(name="webshop",
                                   scopes=[ApiScope.ORDERS, ApiScope.CATALOGUE_READ])
    return raw


@pytest.fixture
def api(client, api_token):
    """POST/GET JSON with the bearer token."""

    class Api:
        token = api_token

        def post(self, path, body, **headers):
            return client.post(f"/api/v1{path}", data=body, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {self.token}", **headers)

        def get(self, path, **params):
            return client.get(f"/api/v1{path}", params,
                              HTTP_AUTHORIZATION=f"Bearer {self.token}")

    return Api()


def written() -> tuple[int, int]:
    """What a refused capture must leave untouched."""
    return Order.objects.count(), Customer.objects.count()
