"""CSV export of the order list: the list's filters, formula cells escaped,
streamed with a query count that does not grow with the rows."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.selectors import OrderFilters
from reporting import exports
from tests.factories.customers import CustomerFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ProductFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    item = ProductFactory(sku="MUG", unit_price=Decimal("10.00"), tax_rate=Decimal("20.00"))
    stock(item, WarehouseFactory(code="MAIN"), 10_000)
    return item


def _read(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+33 6 12", "'+33 6 12"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("Ada Lovelace", "Ada Lovelace"),
    ("a=b", "a=b"),
])
def test_escape_cell_prefixes_formula_starts_only(value, expected):
    assert exports.escape_cell(value) == expected


def test_cells_that_spreadsheets_read_as_formulas_are_escaped_in_the_file(client_for, product):
    evil = CustomerFactory(name="=cmd|' /C calc'!A0", email="@evil@example.com")
    order = make_order(customer=evil, lines=[(product, 2)])
    client = client_for("Manager")

    response = client.get(reverse("reporting:order_export"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    header, row = _read(response)
    assert header[0] == "Number"
    assert row[0] == order.number
    assert row[header.index("Customer")] == "'=cmd|' /C calc'!A0"
    assert row[header.index("E-mail")] == "'@evil@example.com"
    assert row[header.index("Gross")] == "24.00"
    assert row[header.index("Status")] == "Placed"


def test_the_export_uses_the_order_list_filters(client_for, product):
    phone = make_order(lines=[(product, 1)], channel="phone")
    make_order(lines=[(product, 1)], channel="web")
    client = client_for("Manager")

    rows = _read(client.get(reverse("reporting:order_export"), {"channel": "phone"}))[1:]

    assert [row[0] for row in rows] == [phone.number]


def test_the_export_follows_the_list_sort(client_for, product):
    small = make_order(lines=[(product, 1)])
    big = make_order(lines=[(product, 9)])
    client = client_for("Manager")

    rows = _read(client.get(reverse("reporting:order_export"), {"sort": "-total"}))[1:]

    assert [row[0] for row in rows] == [big.number, small.number]


def test_a_big_export_costs_as_many_queries_as_a_small_one(product):
    make_order(lines=[(product, 1)])

    def export() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            lines = list(exports.order_csv_rows(OrderFilters(), chunk_size=10))
        return len(queries), len(lines)

    small_queries, small_lines = export()
    for _ in range(45):
        make_order(lines=[(product, 1)])
    big_queries, big_lines = export()

    assert big_lines == small_lines + 45  # BOM, header, one line per order
    assert big_queries == small_queries


def test_the_export_needs_the_export_permission(client_for):
    assert client_for("Warehouse").get(reverse("reporting:order_export")).status_code == 403
    assert client_for("Buyer").get(reverse("reporting:order_export")).status_code == 403


@pytest.mark.parametrize("role", ["Sales", "Customer service", "Accounting", "Manager"])
def test_the_order_desk_accounting_and_managers_may_export(client_for, role):
    response = client_for(role).get(reverse("reporting:order_export"))
    assert response.status_code == 200
    assert _read(response)[1:] == []
