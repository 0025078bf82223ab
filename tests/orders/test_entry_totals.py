# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""The entry page's live totals are placement's figures: the lines' and the
order's discounts, the code, the shipping charge and tax by rate, computed
by the one function placement uses (`orders.quote.order_figures`); a bad
code is a field error; the partial costs the same queries for any number
of lines."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import DiscountCode, Order, ShippingRate
from tests.factories.inventory import ProductFactory
from tests.orders.capture_support import catalogue, written  # noqa: F401
from tests.orders.test_entry import HTMX, entry_data, total_in

pytestmark = pytest.mark.django_db

D = Decimal
TERMS = {"line_discount": ["10%", ""], "discount": "5%", "discount_code": "loyal"}


@pytest.fixture
def sales(client_for):
    return client_for("Sales")


@pytest.fixture
def priced(catalogue):
    DiscountCode.objects.create(code="LOYAL", kind="amount", value=D("1.00"), currency="EUR")
    ShippingRate.objects.create(currency="EUR", country="FR", price=D("6.90"), label="Parcel")
    return catalogue


def _shown(response) -> dict[str, str]:
    page = response.content.decode()
    shown = dict(re.findall(r'data-total="([a-z_]+)" data-amount="([^"]*)"', page))
    shown.update({f"tax {rate}": amount for rate, amount in
                  re.findall(r'data-tax-rate="([^"]*)" data-amount="([^"]*)"', page)})
    return shown


def test_the_live_totals_are_the_placed_orders_totals(sales, priced):
    data = entry_data(**TERMS)
    live = _shown(sales.post(reverse("orders:entry_lines"), data, **HTMX))
    response = sales.post(reverse("orders:entry_save"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get()
    assert order.shipping_net == D("6.90") and order.code_discount == D("1.00")
    assert live == {
        "goods": str(order.total_net - order.shipping_net + order.discount_amount
                     + order.code_discount),
        "order_discount": str(order.discount_amount), "code_discount": str(order.code_discount),
        "shipping": str(order.shipping_net), "net": str(order.total_net),
        "tax": str(order.total_tax), "gross": str(order.total_gross),
        "tax 5.50": live["tax 5.50"], "tax 20.00": live["tax 20.00"]}
    # goods 17.98 + 13.65 = 31.63; 5 % = 1.58; code 1.00; shipping 6.90 at 20 %
    assert (live["goods"], live["net"]) == ("31.63", "35.95")
    assert D(live["tax 5.50"]) + D(live["tax 20.00"]) == order.total_tax
    page = sales.get(response.url).content.decode()
    assert f'data-discounts="{order.discount_total}"' in page
    assert f'data-shipping="{order.shipping_net}"' in page


@pytest.mark.parametrize(("code", "message"), [
    ("NOPE", "Unknown discount code."),
    ("OLD", "This code has expired."),
    ("FULL", "This code has been used up."),
])
def test_a_code_that_cannot_be_used_is_a_field_error_on_the_code(sales, priced, code,
                                                                   message):
    now = timezone.now()
    DiscountCode.objects.create(code="OLD", kind="percent", value=D("10"), currency="EUR",
                                valid_from=now - timezone.timedelta(days=5),
                                valid_until=now - timezone.timedelta(days=1))
    DiscountCode.objects.create(code="FULL", kind="percent", value=D("10"), currency="EUR",
                                max_uses=1)
    sales.post(reverse("orders:entry_save"), entry_data(discount_code="FULL"))  # its one use
    response = sales.post(reverse("orders:entry_lines"), entry_data(discount_code=code), **HTMX)
    page = response.content.decode()
    error = re.search(r'id="live-error-discount_code"[^>]*hx-swap-oob="true">(.*?)</div>', page)
    assert error is not None and message in error.group(1)
    assert "code_discount" not in _shown(response)
    assert total_in(response, "net") == "40.53"  # 33.63 + 6.90, no code


def test_placing_with_a_bad_code_shows_the_same_error_on_the_code_field(sales, priced):
    written_before = written()
    response = sales.post(reverse("orders:entry_save"), entry_data(discount_code="NOPE"))
    assert response.status_code == 422
    assert "Unknown discount code." in response.content.decode()
    assert written() == written_before


def test_the_totals_are_in_the_readers_locale(sales, priced):
    sales.cookies["django_language"] = "fr"
    response = sales.post(reverse("orders:entry_lines"), entry_data(**TERMS),
                          HTTP_ACCEPT_LANGUAGE="fr", **HTMX)
    assert re.search(r"35,95\s€", response.content.decode())


def _lines(count: int) -> tuple[list[str], list[str]]:
    skus = []
    for index in range(count):
        product = ProductFactory(sku=f"BULK-{count}-{index}", unit_price=D("2.00"),
                                 tax_rate=D("20.00") if index % 2 else D("5.50"))
        skus.append(product.sku)
    return skus, ["1"] * count


def test_the_partial_costs_the_same_queries_for_any_number_of_lines(sales, priced):
    def queries(count: int) -> int:
        skus, quantities = _lines(count)
        data = entry_data(**{**TERMS, "line_sku": skus, "line_qty": quantities,
                             "line_discount": ["10%"] * count})
        sales.post(reverse("orders:entry_lines"), data, **HTMX)  # warm the caches
        with CaptureQueriesContext(connection) as captured:
            response = sales.post(reverse("orders:entry_lines"), data, **HTMX)
        assert total_in(response, "gross") is not None
        return len(captured)

    assert queries(2) == queries(12)
