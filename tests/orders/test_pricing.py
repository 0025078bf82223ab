# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""Unit prices at placement come from the most specific valid price list for
the customer, currency and date; a product without a price in the order's
currency is refused on its line in every channel, with nothing written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import CustomerGroup
from oms.lib.errors import ApplicationError
from oms.lib.money import quantize_money
from orders import imports
from orders.inputs import PriceInput, PriceListInput
from orders.models import Order, PriceList, PriceScope
from orders.pricing import LineToPrice, price_lines
from orders.services import PlaceOrder, place_order, save_price_list, set_price
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.orders import stocked_product
from tests.orders.capture_support import api, api_token, catalogue, order_body, written  # noqa: F401
from tests.orders.test_entry import entry_data
from tests.orders.test_import import ADA, ADDRESS, HEADER

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def price_list(name: str, currency: str = "EUR", **scope) -> PriceList:
    return save_price_list(PriceListInput.parse({"name": name, "currency": currency, **scope}),
                           actor=None)


def price(price_list: PriceList, sku: str, amount: str, min_quantity: int = 1) -> None:
    set_price(price_list=price_list, actor=None, data=PriceInput(
        sku=sku, min_quantity=min_quantity, unit_price=Decimal(amount)))


def unit_prices(customer, currency: str, lines, on_date=None) -> list[Decimal | None]:
    priced = price_lines(customer=customer, currency=currency, on_date=on_date or TODAY(),
                         lines=[LineToPrice(product_id=p.pk, quantity=q) for p, q in lines])
    return [None if line is None else line.unit_price for line in priced]


def test_the_customer_list_beats_the_group_list_beats_the_catalogue_default():
    mug, tea, pen = (stocked_product(10, unit_price=Decimal("10.00")) for _ in range(3))
    group = CustomerGroup.objects.create(name="Resellers")
    customer = CustomerFactory(group=group)
    resellers = price_list("Resellers", customer_group=group.pk)
    price(resellers, mug.sku, "8.00")
    price(resellers, tea.sku, "9.00")
    price(price_list("Ada's deal", customer=customer.pk), mug.sku, "7.00")

    # mug: the customer's list; tea: the group's; pen: only on the default list.
    assert unit_prices(customer, "EUR", [(mug, 1), (tea, 1), (pen, 1)]) == [
        Decimal("7.00"), Decimal("9.00"), Decimal("10.00")]
    # Another customer of no group pays the catalogue default everywhere.
    assert unit_prices(CustomerFactory(), "EUR", [(mug, 1), (tea, 1)]) == [
        Decimal("10.00"), Decimal("10.00")]
    scopes = price_lines(customer=customer, currency="EUR", on_date=TODAY(),
                         lines=[LineToPrice(product_id=mug.pk, quantity=1)])
    assert scopes[0] is not None and scopes[0].scope == PriceScope.CUSTOMER


def test_the_highest_quantity_break_not_above_the_line_quantity_applies():
    mug = stocked_product(100, unit_price=Decimal("10.00"))
    default = PriceList.objects.get(currency="EUR", customer=None, customer_group=None)
    price(default, mug.sku, "9.00", min_quantity=10)
    price(default, mug.sku, "8.50", min_quantity=50)
    customer = CustomerFactory()

    assert unit_prices(customer, "EUR", [(mug, 9), (mug, 10), (mug, 49), (mug, 50)]) == [
        Decimal("10.00"), Decimal("9.00"), Decimal("9.00"), Decimal("8.50")]


def test_a_customer_list_without_a_break_for_the_quantity_falls_back_to_the_default():
    mug = stocked_product(100, unit_price=Decimal("10.00"))
    customer = CustomerFactory()
    price(price_list("Bulk only", customer=customer.pk), mug.sku, "6.00", min_quantity=20)

    assert unit_prices(customer, "EUR", [(mug, 5), (mug, 20)]) == [
        Decimal("10.00"), Decimal("6.00")]


def test_only_lists_valid_on_the_date_apply():
    mug = stocked_product(10, unit_price=Decimal("10.00"))
    customer = CustomerFactory()
    today = TODAY()
    price(price_list("Last month", customer=customer.pk, valid_from=today - timedelta(40),
                     valid_until=today - timedelta(10)), mug.sku, "5.00")
    price(price_list("This week", customer=customer.pk, valid_from=today - timedelta(2),
                     valid_until=today + timedelta(5)), mug.sku, "6.00")
    price(price_list("Next month", customer=customer.pk, valid_from=today + timedelta(20)),
          mug.sku, "7.00")

    assert unit_prices(customer, "EUR", [(mug, 1)], today - timedelta(20)) == [Decimal("5.00")]
    assert unit_prices(customer, "EUR", [(mug, 1)], today) == [Decimal("6.00")]
    assert unit_prices(customer, "EUR", [(mug, 1)], today + timedelta(6)) == [Decimal("10.00")]
    assert unit_prices(customer, "EUR", [(mug, 1)], today + timedelta(30)) == [Decimal("7.00")]


def test_all_lines_of_an_order_are_priced_in_one_query():
    products = [stocked_product(10) for _ in range(5)]
    group = CustomerGroup.objects.create(name="Resellers")
    customer = CustomerFactory(group=group)
    price(price_list("Resellers", customer_group=group.pk), products[0].sku, "1.00")
    with CaptureQueriesContext(connection) as ctx:
        unit_prices(customer, "EUR", [(p, 3) for p in products])
    assert len(ctx.captured_queries) == 1


def _order(customer, currency: str, lines) -> Order:
    return place_order(PlaceOrder.parse({
        "customer": customer, "channel": "web", "currency": currency,
        "lines": [{"sku": p.sku, "quantity": q} for p, q in lines],
        "shipping_address": address_data(), "payment": {"method": "bank_transfer"}}),
        actor=None)


def test_usd_and_gbp_orders_are_priced_from_their_own_lists():
    mug = stocked_product(50, unit_price=Decimal("10.00"), tax_rate=Decimal("20.00"))
    price(PriceList.objects.get(currency="USD", customer=None), mug.sku, "11.49")
    price(PriceList.objects.get(currency="GBP", customer=None), mug.sku, "8.75")
    customer = CustomerFactory()

    usd, gbp, eur = (_order(customer, c, [(mug, 3)]) for c in ("USD", "GBP", "EUR"))

    assert (usd.currency, usd.lines.get().unit_price, usd.total_net, usd.total_gross) == (
        "USD", Decimal("11.49"), Decimal("34.47"), Decimal("41.36"))
    assert (gbp.lines.get().unit_price, gbp.total_net, gbp.total_gross) == (
        Decimal("8.75"), Decimal("26.25"), Decimal("31.50"))
    assert eur.lines.get().unit_price == Decimal("10.00")


def test_money_rounds_to_the_currency_digits_half_up():
    assert quantize_money(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert quantize_money(Decimal("1234.4999"), "JPY") == Decimal("1234")
    assert quantize_money(Decimal("2.345"), "EUR") == Decimal("2.35")
    assert quantize_money(Decimal("2.345")) == Decimal("2.35")  # the default currency


def test_a_jpy_order_has_no_decimals_anywhere(settings):
    settings.CURRENCIES = [*settings.CURRENCIES, "JPY"]
    mug = stocked_product(50, unit_price=Decimal("10.00"), tax_rate=Decimal("10.00"))
    yen = PriceList.objects.get(currency="JPY", customer=None, customer_group=None)
    price(yen, mug.sku, "1555")

    order = _order(CustomerFactory(), "JPY", [(mug, 3)])

    # 4665 net, 10 %: 466.5 tax rounds half up to 467.
    assert (order.total_net, order.total_tax, order.total_gross) == (
        Decimal("4665"), Decimal("467"), Decimal("5132"))
    order.refresh_from_db()
    assert order.total_tax == Decimal("467.00")
    with pytest.raises(ApplicationError) as refused:
        price(yen, mug.sku, "1555.50")
    assert refused.value.field_errors == {"unit_price": ["JPY prices have no decimals."]}


# --- no price in the order's currency: refused on the line, nothing written ------

@pytest.fixture
def no_usd_tea(catalogue):
    PriceList.objects.get(currency="USD", customer=None).entries.filter(
        product=catalogue["TEA-1"]).delete()
    return catalogue


def test_the_service_refuses_a_product_without_a_price_in_the_currency(no_usd_tea):
    customer = CustomerFactory()
    with pytest.raises(ApplicationError) as refused:
        _order(customer, "USD", [(no_usd_tea["MUG-1"], 1), (no_usd_tea["TEA-1"], 1)])
    assert refused.value.field_errors == {"lines.1.sku": ["TEA-1 has no price in USD."]}
    assert Order.objects.count() == 0


def test_the_api_refuses_a_product_without_a_price_in_the_currency(api, no_usd_tea):
    before = written()
    response = api.post("/orders", order_body(currency="USD"))
    assert response.status_code == 400
    assert response.json()["errors"]["lines.1.sku"] == ["TEA-1 has no price in USD."]
    assert written() == before


def test_the_entry_form_refuses_a_product_without_a_price_in_the_currency(client_for,
                                                                         no_usd_tea):
    before = written()
    response = client_for("Sales").post(reverse("orders:entry_save"),
                                        entry_data(currency="USD"))
    assert response.status_code == 422
    assert "TEA-1 has no price in USD." in response.content.decode()
    assert written() == before


def test_the_csv_import_refuses_a_product_without_a_price_in_the_currency(no_usd_tea):
    preview = imports.check(f"{HEADER}\nA-1,{ADA},MUG-1,1,USD,{ADDRESS},\n"
                            f"A-1,{ADA},TEA-1,1,USD,{ADDRESS},\n".encode())
    assert not preview.is_clean
    assert preview.rows[1].errors == {"sku": ["TEA-1 has no price in USD."]}
    assert preview.rows[0].errors == {}
    assert written() == (0, 0)


def test_the_csv_preview_totals_come_from_the_customers_list(catalogue):
    group = CustomerGroup.objects.create(name="Resellers")
    CustomerFactory(email="ada@example.com", group=group)
    price(price_list("Resellers", customer_group=group.pk), "MUG-1", "5.00")
    preview = imports.check(f"{HEADER}\nA-1,{ADA},MUG-1,2,EUR,{ADDRESS},\n".encode())
    assert preview.is_clean
    assert preview.orders[0].total_net == Decimal("10.00")
