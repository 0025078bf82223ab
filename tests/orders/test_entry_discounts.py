# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""Discounts on the entry page: live line discounts, the order discount and
the code placed through the form; bad ones are field errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import DiscountCode, Order
from tests.orders.capture_support import catalogue, written  # noqa: F401
from tests.orders.test_entry import HTMX, entry_data, total_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(client_for):
    return client_for("Sales")


def test_the_lines_partial_takes_each_lines_discount_off_live(sales, catalogue):
    response = sales.post(reverse("orders:entry_lines"),
                          {"line_sku": ["MUG-1", "TEA-1"], "line_qty": ["2", "3"],
                           "line_discount": ["10%", ""], "currency": "EUR"}, **HTMX)
    assert 'data-line-discount="2.00"' in response.content.decode()
    assert total_in(response, "net") == "31.63"  # 19.98 - 2.00 + 13.65


def test_a_bad_line_discount_is_an_error_on_its_line(sales, catalogue):
    response = sales.post(reverse("orders:entry_lines"),
                          {"line_sku": ["MUG-1"], "line_qty": ["1"], "line_discount": ["150%"],
                           "currency": "EUR"}, **HTMX)
    assert "A discount cannot be more than 100%." in response.content.decode()
    response = sales.post(reverse("orders:entry_save"),
                          entry_data(line_discount=["20.00", ""]))
    assert response.status_code == 422
    assert "At most €19.98 off this line." in response.content.decode()
    assert written() == (0, 0)


def test_placing_with_a_line_discount_an_order_discount_and_a_code(sales, catalogue):
    DiscountCode.objects.create(code="LOYAL", kind="amount", value=Decimal("1.00"),
                                currency="EUR")
    response = sales.post(reverse("orders:entry_save"), entry_data(
        line_discount=["10%", ""], discount="5%", discount_code="loyal"))
    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get()
    # goods 17.98 + 13.65 = 31.63; 5 % = 1.58; the code 1.00
    assert (order.discount_total, order.code_discount, order.total_net) == (
        Decimal("4.58"), Decimal("1.00"), Decimal("29.05"))
    page = sales.get(response.url).content.decode()
    assert 'data-discounts="4.58"' in page and "code LOYAL" in page


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"discount": "101%"}, "discount", "A discount cannot be more than 100%."),
    ({"discount": "40.00"}, "discount", "At most €33.63 off this order."),
    ({"discount_code": "NOPE"}, "discount_code", "Unknown discount code."),
])
def test_bad_order_discounts_are_field_errors_and_write_nothing(sales, catalogue, changes,
                                                                field, message):
    response = sales.post(reverse("orders:entry_save"), entry_data(**changes))
    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert written() == (0, 0)
