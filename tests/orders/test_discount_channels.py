# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""Discounts and codes through the JSON API and the CSV import: the same
rules, the same field errors, nothing written on a refusal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders import imports
from orders.models import DiscountCode, DiscountRedemption, Order
from tests.orders.capture_support import api, api_token, catalogue, order_body, written  # noqa: F401

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def code(db):
    return DiscountCode.objects.create(code="WELCOME", kind="amount", value=D("3.00"),
                                       currency="EUR", max_uses=5)


# --- the API ----------------------------------------------------------------------

def test_the_api_places_an_order_with_a_code_and_answers_the_discounts(api, catalogue, code):
    body = order_body()  # 2 x 9.99 at 20 % + 3 x 4.55 at 5.5 %
    body["discount_code"] = "welcome"
    response = api.post("/orders", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["discount_total"], data["discount_code"], data["total_net"]) == (
        "3.00", "WELCOME", "30.63")
    assert sum(D(line["discount"]) for line in data["lines"]) == D("3.00")
    assert api.get(f"/orders/{data['number']}").json()["discount_code"] == "WELCOME"
    assert DiscountRedemption.objects.get().order.number == data["number"]


def test_the_api_takes_line_and_order_discounts(api, catalogue):
    body = order_body()
    body["lines"][0]["discount"] = "50%"
    body["discount"] = "1.00"
    data = api.post("/orders", body).json()
    assert data["lines"][0]["discount"] != "0.00"
    assert D(data["discount_total"]) == D("9.99") + D("1.00")


@pytest.mark.parametrize(("change", "path", "message"), [
    (lambda b: b["lines"][0].update(discount="101%"), "lines.0.discount", "more than 100%"),
    (lambda b: b["lines"][1].update(discount="13.66"), "lines.1.discount",
     "At most €13.65 off this line."),
    (lambda b: b.update(discount="-1"), "discount", "cannot be negative"),
    (lambda b: b.update(discount="40.00"), "discount", "At most €33.63 off this order."),
    (lambda b: b.update(discount_code="NOPE"), "discount_code", "Unknown discount code."),
])
def test_bad_discounts_through_the_api_are_field_errors(api, catalogue, change, path, message):
    body = order_body()
    change(body)
    response = api.post("/orders", body)
    assert response.status_code in (400, 422), response.content
    assert message in response.json()["errors"][path][0]
    assert written() == (0, 0)


def test_an_expired_or_used_up_code_through_the_api_writes_nothing(api, catalogue, code):
    code.valid_until = timezone.now() - timedelta(seconds=1)
    code.save()
    body = {**order_body(), "discount_code": "WELCOME"}
    response = api.post("/orders", body)
    assert response.json()["errors"] == {"discount_code": ["This code has expired."]}
    code.valid_until, code.max_uses = None, 0
    code.save()
    response = api.post("/orders", body)
    assert response.json()["errors"] == {"discount_code": ["This code has been used up."]}
    assert written() == (0, 0)


# --- the CSV import ---------------------------------------------------------------

HEADER = ("order_ref,customer_email,customer_name,sku,quantity,currency,ship_name,ship_line1,"
          "ship_postal_code,ship_city,ship_country,discount,order_discount,discount_code")
ROW = "A-1,ada@example.com,Ada,{sku},{qty},EUR,Ada,1 Rue de Rivoli,75001,Paris,FR,{d},{od},{c}"


def _file(*rows: dict) -> bytes:
    return "\n".join([HEADER, *(ROW.format(**{"qty": 1, "d": "", "od": "", "c": "", **r})
                                for r in rows)]).encode()


def test_the_import_previews_and_places_discounts_and_codes(catalogue, code, make_user):
    content = _file({"sku": "MUG-1", "qty": 2, "d": "10%", "c": "WELCOME"},
                    {"sku": "TEA-1", "qty": 3, "c": "WELCOME"})
    preview = imports.check(content)
    assert preview.is_clean, [row.errors for row in preview.rows]
    # 19.98 - 2.00 + 13.65, less the code's 3.00
    assert preview.orders[0].total_net == D("28.63")
    [order] = imports.import_orders(content=content, actor=make_user("Sales"))
    assert (order.total_net, order.discount_total, order.code_discount) == (
        D("28.63"), D("5.00"), D("3.00"))
    assert order.total_net == preview.orders[0].total_net
    assert order.total_gross == preview.orders[0].total_gross


@pytest.mark.parametrize(("row", "column", "message"), [
    ({"sku": "MUG-1", "d": "120%"}, "discount", "more than 100%"),
    ({"sku": "MUG-1", "d": "10.00"}, "discount", "At most €9.99 off this line."),
    ({"sku": "MUG-1", "od": "abc"}, "order_discount", "percentage such as"),
    ({"sku": "MUG-1", "od": "10.00"}, "order_discount", "At most €9.99 off this order."),
    ({"sku": "MUG-1", "c": "NOPE"}, "discount_code", "Unknown discount code."),
])
def test_bad_discounts_in_a_file_are_errors_on_their_column(catalogue, row, column, message):
    preview = imports.check(_file(row))
    assert not preview.is_clean
    assert message in preview.rows[0].errors[column][0], preview.rows[0].errors


def test_an_exhausted_code_in_a_file_is_an_error_and_imports_nothing(catalogue, code,
                                                                      make_user):
    code.max_uses = 0
    code.save()
    content = _file({"sku": "MUG-1", "c": "WELCOME"})
    preview = imports.check(content)
    assert preview.rows[0].errors == {"discount_code": ["This code has been used up."]}
    with pytest.raises(Exception, match="nothing was imported"):
        imports.import_orders(content=content, actor=make_user("Sales"))
    assert not Order.objects.exists()
