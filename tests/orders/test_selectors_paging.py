"""The order list pages by primary keys first (index-only, no join for the
skipped rows) and then loads the page with its customer: the same rows in
the same order as a plain OFFSET slice, in one query."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order
from orders.selectors import OrderFilters, order_page, search_orders
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

PAGE_SIZE = 10


@pytest.fixture
def orders():
    """23 orders over two customers, with ties on created_at and on total."""
    cheap = stocked_product(1000, unit_price=Decimal("10.00"))
    dear = stocked_product(1000, unit_price=Decimal("99.00"))
    ada, bob = CustomerFactory(name="Ada Lovelace"), CustomerFactory(name="Bob Builder")
    made = [make_order(customer=ada if i % 2 else bob, lines=[(dear if i % 3 else cheap, 1)])
            for i in range(23)]
    moment = timezone.now() - timedelta(days=1)
    # Three groups of orders created at the very same instant.
    for i, order in enumerate(made):
        Order.objects.filter(pk=order.pk).update(created_at=moment + timedelta(hours=i // 8))
    return made


@pytest.mark.parametrize("sort", ["-created", "created", "total", "-total", "-number"])
@pytest.mark.parametrize("query", ["", "lovelace"])
def test_every_page_matches_a_plain_offset_slice(orders, sort, query,
                                                 django_assert_num_queries):
    filters = OrderFilters(sort=sort, query=query)
    plain = [o.pk for o in search_orders(filters)]
    assert len(set(plain)) == len(plain)
    seen = []
    for number in range(1, 5):
        # One query for the page (plus one for the matching customers' ids).
        with django_assert_num_queries(2 if query else 1):
            page = order_page(filters, page=number, page_size=PAGE_SIZE)
            # The customer came with the page (no query per row).
            names = [o.customer.name for o in page]
        offset = (number - 1) * PAGE_SIZE
        assert [o.pk for o in page] == plain[offset:offset + PAGE_SIZE]
        assert page.has_next == (len(plain) > offset + PAGE_SIZE)
        assert all(names)
        seen += [o.pk for o in page]
    assert seen == plain


def test_ties_on_the_sort_column_are_broken_by_id(orders):
    rows = order_page(OrderFilters(sort="total"), page=1, page_size=25).object_list
    keys = [(o.total_gross, o.pk) for o in rows]
    assert keys == sorted(keys)
    assert len({o.total_gross for o in rows}) < len(rows)  # there were ties
    rows = order_page(OrderFilters(sort="-created"), page=1, page_size=25).object_list
    keys = [(o.created_at, o.pk) for o in rows]
    assert keys == sorted(keys, reverse=True)
    assert len({o.created_at for o in rows}) < len(rows)
