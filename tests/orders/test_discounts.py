"""Discounts at placement: on lines, on the order and by code; every bad
input is a field error and writes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from oms.lib.errors import ApplicationError
from orders import services
from orders.discounts import Discount, allocate, parse_discount
from orders.models import DiscountCode, DiscountRedemption, Order, OrderLine
from orders.services import LineInput, PlaceOrder, place_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def lamp():
    return stocked_product(sku="LAMP", unit_price=D("40.00"), tax_rate=D("20.00"))


@pytest.fixture
def book():
    return stocked_product(sku="BOOK", unit_price=D("12.50"), tax_rate=D("5.50"))


def _place(lines, *, customer=None, actor=None, draft=False, **extra) -> Order:
    customer = customer or CustomerFactory()
    return place_order(PlaceOrder.parse({
        "customer": customer, "channel": "phone", "currency": extra.pop("currency", "EUR"),
        "lines": [{"sku": p.sku, "quantity": q, **({"discount": d} if d else {})}
                  for p, q, d in lines],
        "shipping_address": address_data(), **extra}), actor=actor, draft=draft)


def _errors(call) -> dict:
    with pytest.raises(ApplicationError) as caught:
        call()
    return caught.value.field_errors or {}


def _code(**fields) -> DiscountCode:
    values = {"code": "LOYAL10", "kind": "percent", "value": D("10"), "currency": "EUR",
              "max_uses_per_customer": 1, **fields}
    return DiscountCode.objects.create(**values)


# --- parsing and sharing ---------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("10%", Discount(percent=D("10.00"))), (" 12,5 % ", Discount(percent=D("12.50"))),
    ("5", Discount(amount=D("5.00"))), ("5.25", Discount(amount=D("5.25"))),
    ("100%", Discount(percent=D("100.00"))), ("", None), ("0", None), (None, None)])
def test_a_discount_is_a_percentage_or_an_amount(text, expected):
    assert parse_discount(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("100.01%", "more than 100%"), ("150%", "more than 100%"), ("-5", "negative"),
    ("abc", "percentage such as"), ("5.123", "percentage such as"), ("%", "percentage such")])
def test_a_bad_discount_says_why(text, message):
    with pytest.raises(ValueError, match=message):
        parse_discount(text)


def test_sharing_an_amount_sums_to_the_cent_in_proportion():
    shares = allocate(D("10.00"), [D("33.33"), D("33.33"), D("33.34")])
    assert sum(shares) == D("10.00")
    assert shares == [D("3.33"), D("3.33"), D("3.34")]
    assert allocate(D("0.01"), [D("1"), D("1")]) == [D("0.01"), D("0.00")]
    assert allocate(D("5"), [D("0"), D("0")]) == [D("0.00"), D("0.00")]


# --- line and order discounts ------------------------------------------------------

def test_a_line_percentage_comes_off_the_line_before_tax(lamp):
    order = _place([(lamp, 2, "10%")])
    line = order.lines.get()
    assert (line.discount_percent, line.discount, line.line_net) == (
        D("10.00"), D("8.00"), D("72.00"))
    assert (order.total_net, order.total_tax, order.total_gross) == (
        D("72.00"), D("14.40"), D("86.40"))
    assert order.discount_total == D("8.00")


def test_a_line_amount_comes_off_the_line(lamp):
    order = _place([(lamp, 2, "5.50")])
    line = order.lines.get()
    assert (line.discount_percent, line.discount, line.line_net) == (None, D("5.50"),
                                                                     D("74.50"))


def test_an_order_discount_reduces_each_tax_rates_base_by_its_share(lamp, book):
    # Goods 40.00 at 20 % and 25.00 at 5.5 %: 13.00 off is shared 8.00 / 5.00.
    order = _place([(lamp, 1, None), (book, 2, None)], discount="13.00")
    lamp_line, book_line = order.lines.order_by("position")
    assert (lamp_line.order_discount, book_line.order_discount) == (D("8.00"), D("5.00"))
    assert order.total_net == D("52.00")
    assert order.total_tax == D("6.40") + D("1.10")  # 20 % of 32.00, 5.5 % of 20.00
    assert (order.discount_amount, order.discount_percent) == (D("13.00"), None)
    assert order.total_gross == order.total_net + order.total_tax


def test_an_order_percentage_applies_after_the_line_discounts(lamp, book):
    order = _place([(lamp, 1, "5.00"), (book, 2, None)], discount="10%")
    # Goods after line discounts: 35.00 + 25.00 = 60.00; 10 % = 6.00.
    assert order.discount_amount == D("6.00")
    assert order.discount_total == D("11.00")
    assert order.total_net == D("54.00")


def test_a_line_discount_above_the_line_is_a_field_error_and_writes_nothing(lamp, book):
    errors = _errors(lambda: _place([(book, 1, None), (lamp, 1, "40.01")]))
    assert errors == {"lines.1.discount": ["At most €40.00 off this line."]}
    assert not Order.objects.exists()


def test_a_percentage_above_100_is_a_field_error(lamp):
    errors = _errors(lambda: _place([(lamp, 1, "101%")]))
    assert errors == {"lines.0.discount": ["A discount cannot be more than 100%."]}
    errors = _errors(lambda: _place([(lamp, 1, None)], discount="120%"))
    assert errors == {"discount": ["A discount cannot be more than 100%."]}
    assert not Order.objects.exists()


def test_an_order_discount_above_the_goods_is_a_field_error(lamp):
    errors = _errors(lambda: _place([(lamp, 1, "10.00")], discount="30.01"))
    assert errors == {"discount": ["At most €30.00 off this order."]}
    assert not Order.objects.exists()


def test_a_full_discount_leaves_a_zero_line(lamp):
    order = _place([(lamp, 1, "100%")])
    assert (order.total_net, order.total_gross) == (D("0.00"), D("0.00"))


def test_a_draft_keeps_its_discounts_when_placed(lamp, book):
    draft = _place([(lamp, 1, "10%"), (book, 2, "2.00")], discount="5.00", draft=True)
    placed = services.place_draft(order=draft, actor=None)
    placed.refresh_from_db()
    lines = list(OrderLine.objects.filter(order=placed).order_by("position"))
    assert [(line.discount_percent, line.discount) for line in lines] == [
        (D("10.00"), D("4.00")), (None, D("2.00"))]
    assert placed.discount_total == D("11.00")
    assert placed.total_net == D("54.00")


# --- discount codes ----------------------------------------------------------------

def test_a_percent_code_comes_off_the_goods_and_is_redeemed(lamp):
    code = _code()
    customer = CustomerFactory()
    order = _place([(lamp, 2, None)], customer=customer, discount_code="loyal10")
    assert (order.code_discount, order.discount_total, order.total_net) == (
        D("8.00"), D("8.00"), D("72.00"))
    redemption = DiscountRedemption.objects.get()
    assert (redemption.code, redemption.order, redemption.customer, redemption.amount) == (
        code, order, customer, D("8.00"))


def test_an_amount_code_never_takes_more_than_the_goods(lamp):
    _code(kind="amount", value=D("50.00"))
    order = _place([(lamp, 1, None)], discount_code="LOYAL10")
    assert (order.code_discount, order.total_net) == (D("40.00"), D("0.00"))


@pytest.mark.parametrize(("fields", "message"), [
    ({"valid_until": timezone.now() - timedelta(minutes=1)}, "This code has expired."),
    ({"valid_from": timezone.now() + timedelta(days=2)}, "This code is valid from"),
    ({"is_active": False}, "Unknown discount code."),
    ({"currency": "USD"}, "This code is for orders in USD."),
    ({"minimum_order": D("80.01")}, "This code needs an order of at least €80.01."),
])
def test_a_code_that_does_not_apply_is_a_field_error(lamp, fields, message):
    _code(**fields)
    errors = _errors(lambda: _place([(lamp, 2, None)], discount_code="LOYAL10"))
    assert list(errors) == ["discount_code"]
    assert errors["discount_code"][0].startswith(message)
    assert not Order.objects.exists() and not DiscountRedemption.objects.exists()


def test_an_unknown_code_is_a_field_error(lamp):
    errors = _errors(lambda: _place([(lamp, 1, None)], discount_code="NOPE"))
    assert errors == {"discount_code": ["Unknown discount code."]}


def test_an_exhausted_code_is_refused(lamp):
    _code(max_uses=1, max_uses_per_customer=None)
    _place([(lamp, 1, None)], discount_code="LOYAL10")
    errors = _errors(lambda: _place([(lamp, 1, None)], discount_code="LOYAL10"))
    assert errors == {"discount_code": ["This code has been used up."]}
    assert Order.objects.count() == 1


def test_a_customer_uses_a_code_only_as_often_as_allowed(lamp):
    _code(max_uses_per_customer=2)
    customer = CustomerFactory()
    for _ in range(2):
        _place([(lamp, 1, None)], customer=customer, discount_code="LOYAL10")
    errors = _errors(lambda: _place([(lamp, 1, None)], customer=customer,
                                    discount_code="LOYAL10"))
    assert errors == {"discount_code": ["This customer has already used this code."]}
    _place([(lamp, 1, None)], discount_code="LOYAL10")  # someone else still may


def test_a_cancelled_order_gives_its_use_back(lamp):
    _code(max_uses=1)
    order = _place([(lamp, 1, None)], discount_code="LOYAL10")
    services.cancel_order(order_id=order.pk, actor=None, reason="changed mind")
    again = _place([(lamp, 1, None)], discount_code="LOYAL10")
    assert again.code_discount == D("4.00")


def test_code_and_line_errors_come_together(lamp):
    errors = _errors(lambda: _place([(lamp, 1, "41")], discount_code="NOPE"))
    assert set(errors) == {"lines.0.discount", "discount_code"}


# --- the per-role limit ---------------------------------------------------------------

def test_manual_discounts_within_the_role_limit_need_no_manager(lamp, make_user):
    order = make_order(lines=[(lamp, 10)], actor=make_user("Sales"), discount="10%")
    assert order.discount_limit == D("40.00")
    assert not order.discount_over_limit


def test_manual_discounts_above_the_role_limit_are_flagged_with_the_figures(lamp, make_user):
    _code(value=D("50"))  # a code's discount counts against no limit
    order = make_order(lines=[(lamp, 10)], actor=make_user("Sales"), discount="40.01",
                       discount_code="LOYAL10")
    assert order.status == "placed"
    assert (order.discount_over_limit, order.manual_discount, order.discount_limit) == (
        True, D("40.01"), D("40.00"))


def test_a_superuser_has_no_limit_and_the_system_none_to_give(lamp, make_user):
    admin = make_user(is_superuser=True, username="root")
    assert not make_order(lines=[(lamp, 1)], actor=admin, discount="90%").discount_over_limit
    assert make_order(lines=[(lamp, 1)], actor=None, discount="1%").discount_over_limit
    assert not make_order(lines=[(lamp, 1)], actor=None).discount_over_limit


def test_the_placement_input_refuses_a_line_discount_that_is_not_text_or_number(lamp):
    with pytest.raises(ApplicationError) as caught:
        PlaceOrder.parse({"customer": CustomerFactory(), "channel": "web", "currency": "EUR",
                          "lines": [LineInput(sku=lamp.sku, quantity=1)],
                          "shipping_address": address_data(), "discount": ["10"]})
    assert "discount" in (caught.value.field_errors or {})
