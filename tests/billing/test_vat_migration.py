"""The VAT migrations keep every existing order's and issued invoice's
figures: rows written before them read the same after them, an issued
invoice's immutability trigger never fires, and products get the tax
category of their rate."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from billing.models import Invoice
from inventory.models import Product, VatRate
from tests.billing.invoicing_support import reserved_order, ship, two_rate_lines

pytestmark = pytest.mark.django_db(transaction=True)

# The migrations just before the VAT ones.
BEFORE = [("inventory", "0006_product_costs"),
          ("orders", "0013_discounts_codes_shipping_charge"),
          ("billing", "0006_invoice_line_discount")]
NEW_COLUMNS = {"vat_reason", "vat_mention", "vat_buyer_id", "vat_seller_country",
               "vat_destination_country", "tax_category",
               # Later migrations' columns (invoices per shipment).
               "shipment_id", "shipment_number", "shipment_date", "order_line_id",
               # (deliveries confirmed per order).
               "delivered_at"}


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _rows(table: str, ids: list[int]) -> dict[int, dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, to_jsonb(t) FROM {table} t WHERE id = ANY(%s)", [ids])
        return {pk: {k: v for k, v in (row if isinstance(row, dict) else json.loads(row)).items()
                     if k not in NEW_COLUMNS}
                for pk, row in cursor.fetchall()}


def test_orders_and_issued_invoices_keep_their_figures_across_the_vat_migrations(
        django_capture_on_commit_callbacks):
    order = reserved_order(lines=two_rate_lines())
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    invoice = Invoice.objects.get(order=order)
    assert invoice.number
    leaf = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        _migrate(BEFORE)
        tables = {"orders_order": [order.pk], "billing_invoice": [invoice.pk],
                  "orders_orderline": list(order.lines.values_list("pk", flat=True)),
                  "billing_invoicetaxrate": list(invoice.tax_rates.values_list("pk", flat=True)),
                  "billing_invoiceline": list(invoice.lines.values_list("pk", flat=True))}
        before = {table: _rows(table, ids) for table, ids in tables.items()}
        assert all(len(rows) == len(tables[t]) > 0 for t, rows in before.items())
        with connection.cursor() as cursor:
            cursor.execute("SELECT column_name FROM information_schema.columns "
                           "WHERE table_name = 'orders_order' AND column_name = 'vat_reason'")
            assert cursor.fetchone() is None  # really the schema before
    finally:
        _migrate(leaf)
    after = {table: _rows(table, ids) for table, ids in tables.items()}
    assert after == before
    order.refresh_from_db()
    invoice.refresh_from_db()
    assert (order.total_net, order.total_tax, order.total_gross) == (
        Decimal("74.95"), Decimal("11.37"), Decimal("86.32"))
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (
        order.total_net, order.total_tax, order.total_gross)
    assert order.vat_reason == "catalogue" and invoice.vat_reason == ""
    # Products keep their rate and get the matching category of the seller's country.
    categories = dict(Product.objects.values_list("sku", "tax_category"))
    assert categories == {"BOOK-1": "reduced", "LAMP-1": "standard", "BULB-1": "standard"}
    assert VatRate.objects.values("country").distinct().count() == 27
    assert VatRate.objects.get(country="DE", category="standard").rate == Decimal("19.00")
