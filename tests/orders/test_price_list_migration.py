"""The price-list migration: existing orders and issued invoices keep their
figures, and every currency in use gets a catalogue default list priced
from `Product.unit_price`, so the next order costs what the last one did."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from billing import services as billing_services
from billing.models import Invoice
from orders.models import Order, PriceList
from orders.services import PlaceOrder, place_order
from tests.billing.invoicing_support import reserved_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.orders import stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


def _figures() -> tuple:
    orders = sorted(Order.objects.values_list("number", "currency", "total_net", "total_tax",
                                              "total_gross"))
    lines = sorted(Order.objects.values_list("number", "lines__unit_price", "lines__line_net"))
    invoices = sorted(Invoice.objects.values_list("number", "total_net", "total_tax",
                                                  "total_gross", "lines__unit_price",
                                                  "lines__net"))
    return orders, lines, invoices


def _price_list_migration() -> tuple[tuple[str, str], tuple[str, str]]:
    """(the migration seeding the lists, the orders migration before it),
    found by its data step rather than by number."""
    loader = MigrationExecutor(connection).loader
    (key, migration), = [
        ((app, name), migration) for (app, name), migration in loader.disk_migrations.items()
        if app == "orders" and any(getattr(getattr(op, "code", None), "__name__", "")
                                   == "seed_default_lists" for op in migration.operations)]
    previous, = [dep for dep in migration.dependencies if dep[0] == "orders"]
    return key, previous


def _place(customer, product, currency: str) -> Order:
    return place_order(PlaceOrder.parse({
        "customer": customer, "channel": "web", "currency": currency,
        "lines": [{"sku": product.sku, "quantity": 3}], "shipping_address": address_data(),
        "payment": {"method": "bank_transfer"}}), actor=None)


def test_orders_and_invoices_keep_their_figures_and_prices_carry_over():
    product = stocked_product(100, unit_price=Decimal("12.35"), tax_rate=Decimal("20.00"))
    customer = CustomerFactory()
    before_usd = _place(customer, product, "USD")
    _place(customer, product, "EUR")
    invoice = billing_services.issue_invoice(order_id=reserved_order().pk, actor=None)
    assert invoice.total_gross > 0
    figures = _figures()

    migration, previous = _price_list_migration()
    executor = MigrationExecutor(connection)
    executor.migrate([previous])
    executor.loader.build_graph()
    executor.migrate([migration])
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert _figures() == figures
    defaults = PriceList.objects.filter(customer=None, customer_group=None)
    assert sorted(defaults.values_list("currency", flat=True)) == ["EUR", "GBP", "USD"]
    for price_list in defaults:
        assert price_list.entries.get(product=product).unit_price == Decimal("12.35")
    # The next USD order costs what the last one did.
    after_usd = _place(customer, product, "USD")
    assert (after_usd.lines.get().unit_price, after_usd.total_gross) == (
        before_usd.lines.get().unit_price, before_usd.total_gross)
