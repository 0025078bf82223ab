"""customers.selectors: search and the customer card's aggregate figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.selectors import customer_card, customer_page, search_customers
from orders.services import cancel_order
from tests.factories.customers import AddressFactory, CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


def test_search_matches_name_email_phone_in_any_case():
    ada = CustomerFactory(name="Ada Lovelace", email="ada@analytical.example",
                          phone="+44 20 7946 0001")
    CustomerFactory(name="Bob", email="bob@example.com", phone="+33 1")
    for query in ["lovelace", "ANALYTICAL", "7946", "  ada   lovelace "]:
        assert list(search_customers(query=query)) == [ada], query
    assert search_customers(query="").count() == 2


def test_search_filters_by_standing_and_pages_without_count():
    for _ in range(3):
        CustomerFactory(standing="blocked")
    CustomerFactory(standing="trusted")
    assert search_customers(standing="blocked").count() == 3
    with CaptureQueriesContext(connection) as ctx:
        page = customer_page(standing="blocked", page=1, page_size=2)
    assert len(page) == 2 and page.has_next
    assert len(ctx.captured_queries) == 1
    assert not customer_page(standing="blocked", page=2, page_size=2).has_next


def test_card_counts_orders_and_sums_live_revenue_per_currency():
    customer = CustomerFactory()
    AddressFactory(customer=customer)
    product = stocked_product(100, unit_price=Decimal("10.00"))  # 20 % tax
    make_order(customer=customer, lines=[(product, 1)])  # 12.00
    make_order(customer=customer, lines=[(product, 2)], currency="USD")  # 24.00
    cancelled = make_order(customer=customer, lines=[(product, 5)])
    cancel_order(order_id=cancelled.pk, actor=None, reason="x")
    make_order(customer=customer, lines=[(product, 9)], draft=True)  # not counted
    make_order(lines=[(product, 3)])  # someone else's

    with CaptureQueriesContext(connection) as ctx:
        card = customer_card(customer_id=customer.pk)
    assert len(ctx.captured_queries) == 7  # with the calls and notes, and the contacts
    assert card.order_count == 3
    assert [(t.currency, t.orders, t.open_orders, t.revenue) for t in card.totals] == [
        ("EUR", 2, 1, Decimal("12.00")), ("USD", 1, 1, Decimal("24.00"))]
    assert len(card.recent_orders) == 4 and len(card.addresses) == 1
    assert card.last_order_at is not None


def test_card_of_a_customer_without_orders():
    card = customer_card(customer_id=CustomerFactory().pk)
    assert (card.order_count, card.totals, card.last_order_at) == (0, [], None)
