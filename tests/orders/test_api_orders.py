# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""POST/GET /api/v1/orders: placement from the catalogue, field errors, nothing
written on refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer
from oms.models import ApiToken
from orders.models import Order
from tests.orders.capture_support import api, api_token, catalogue, order_body, written  # noqa: F401

pytestmark = pytest.mark.django_db


def test_post_places_an_order_priced_from_the_catalogue(api, catalogue):
    response = api.post("/orders", order_body())

    assert response.status_code == 201, response.content
    data = response.json()
    order = Order.objects.get(number=data["number"])
    assert order.channel == "api"
    assert data["status"] == order.status == "placed"
    # 2 x 9.99 at 20 % + 3 x 4.55 at 5.5 %: tax per rate, rounded once.
    assert data["total_net"] == "33.63"
    assert data["total_tax"] == str(Decimal("4.00") + Decimal("0.75"))
    assert data["total_gross"] == "38.38"
    assert isinstance(data["total_gross"], str)
    assert [line["sku"] for line in data["lines"]] == ["MUG-1", "TEA-1"]
    customer = Customer.objects.get(email="ada@example.com")
    assert customer.name == "Ada Lovelace"
    assert customer.addresses.filter(kind="shipping", city="Paris").exists()
    assert order.shipping_address["city"] == "Paris"


def test_existing_customer_is_found_by_email_in_any_case(api, catalogue):
    Customer.objects.create(name="Ada L.", email="ada@example.com")
    body = order_body()
    body["customer"]["email"] = "ADA@Example.com"
    assert api.post("/orders", body).status_code == 201
    assert Customer.objects.count() == 1
    assert Order.objects.get().customer.name == "Ada L."


def test_get_returns_the_order_and_404_for_an_unknown_number(api, catalogue):
    number = api.post("/orders", order_body()).json()["number"]

    response = api.get(f"/orders/{number}")
    assert response.status_code == 200
    assert response.json()["number"] == number
    assert response.json()["customer_email"] == "ada@example.com"
    assert api.get("/orders/SO-1999-000001").status_code == 404


def test_missing_token_is_401_and_writes_nothing(client, catalogue):
    response = client.post("/api/v1/orders", data=order_body(), content_type="application/json")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert written() == (0, 0)


def test_revoked_token_is_401(api, catalogue):
    ApiToken.objects.update(revoked_at=timezone.now())
    assert api.post("/orders", order_body()).status_code == 401
    assert api.get("/orders/SO-1").status_code == 401
    assert written() == (0, 0)


@pytest.mark.parametrize(("field", "change"), [
    ("total", lambda b: b.update(total="1.00")),
    ("total_gross", lambda b: b.update(total_gross="1.00")),
    ("lines.0.unit_price", lambda b: b["lines"][0].update(unit_price="0.01")),
    ("lines.1.price", lambda b: b["lines"][1].update(price="0.01")),
])
def test_prices_and_totals_from_the_client_are_refused(api, catalogue, field, change):
    body = order_body()
    change(body)
    response = api.post("/orders", body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert written() == (0, 0)


def _set(path: str, value):
    def change(body):
        target = body
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is KeyError:
            del target[parts[-1]]
        else:
            target[parts[-1]] = value
    return change


@pytest.mark.parametrize(("field", "change"), [
    ("customer.email", _set("customer.email", "not-an-email")),
    ("customer.email", _set("customer.email", KeyError)),
    ("customer.name", _set("customer.name", "")),
    ("customer.kind", _set("customer.kind", "robot")),
    ("lines", _set("lines", [])),
    ("lines.0.quantity", _set("lines.0.quantity", 0)),
    ("lines.0.quantity", _set("lines.0.quantity", -3)),
    ("lines.0.quantity", _set("lines.0.quantity", "2")),
    ("lines.0.quantity", _set("lines.0.quantity", 2.5)),
    ("lines.0.quantity", _set("lines.0.quantity", KeyError)),
    ("lines.1.sku", _set("lines.1.sku", "")),
    ("shipping_address.city", _set("shipping_address.city", KeyError)),
    ("shipping_address.country", _set("shipping_address.country", "France")),
    ("shipping_address", _set("shipping_address", KeyError)),
    ("currency", _set("currency", "XYZ")),
    ("payment.method", _set("payment.method", "cash")),
    ("payment.card_number", _set("payment", {"method": "card", "card_number": "12ab"})),
    ("promised_delivery_date", _set("promised_delivery_date", "next week")),
    ("ship_complete", _set("ship_complete", "perhaps")),
    ("surprise", _set("surprise", True)),
])
def test_every_bad_field_is_a_422_with_its_field_error_and_nothing_written(
        api, catalogue, field, change):
    body = order_body()
    change(body)
    response = api.post("/orders", body)
    assert response.status_code == 422, response.content
    data = response.json()
    assert data["detail"]
    assert field in data["errors"], data["errors"]
    assert all(isinstance(m, str) and m for m in data["errors"][field])
    assert written() == (0, 0)


def test_malformed_json_is_refused(client, api_token, catalogue):
    response = client.post("/api/v1/orders", data="{not json", content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code in {400, 422}
    assert written() == (0, 0)


def test_unknown_sku_is_refused_on_its_line(api, catalogue):
    body = order_body()
    body["lines"][1]["sku"] = "NOPE-9"
    response = api.post("/orders", body)
    assert response.status_code == 400
    assert "Unknown SKU" in response.json()["errors"]["lines.1.sku"][0]
    assert written() == (0, 0)


def test_inactive_product_is_refused(api, catalogue):
    body = order_body(lines=[{"sku": "OLD-1", "quantity": 1}])
    response = api.post("/orders", body)
    assert response.status_code == 400
    assert "lines.0.sku" in response.json()["errors"]
    assert written() == (0, 0)


def test_blocked_customer_cannot_order(api, catalogue):
    Customer.objects.create(name="Mallory", email="ada@example.com", standing="blocked")
    response = api.post("/orders", order_body())
    assert response.status_code == 400
    assert "blocked" in response.json()["detail"]
    assert response.json()["errors"]
    assert written() == (0, 1)


def test_wrong_currency_is_refused(api, catalogue):
    response = api.post("/orders", order_body(currency="JPY"))
    assert response.status_code == 422
    assert "currency" in response.json()["errors"]
    assert written() == (0, 0)


def test_out_of_stock_is_refused_and_leaves_no_new_customer(api, catalogue):
    body = order_body(lines=[{"sku": "MUG-1", "quantity": 51}])
    response = api.post("/orders", body)
    assert response.status_code == 409
    assert "lines.0.quantity" in response.json()["errors"]
    assert written() == (0, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("idempotency_key", [None, "card-1"])
@pytest.mark.parametrize(("card", "status", "hold_reason"), [
    ("4242424242424242", "reserved", ""),
    ("4000000000000002", "on_hold", "payment_declined"),
])
def test_the_response_carries_the_payment_decision(api, catalogue, monkeypatch, card, status,
                                                   hold_reason, idempotency_key):
    # tests/orders/conftest.py removes billing's approver; this test wants the real one.
    from billing.services import run_payment_approval
    from orders import payments

    monkeypatch.setattr(payments, "_approver", run_payment_approval)
    customer = Customer.objects.create(name="Ada", email="ada@example.com", standing="trusted")
    # The customer's own shop integration: its trusted standing applies.
    customer.api_tokens.add(ApiToken.objects.get(name="webshop"))

    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    body = order_body(payment={"method": "card", "card_number": card})
    response = api.post("/orders", body, **headers)

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["hold_reason"]) == (status, hold_reason)
    assert Order.objects.get().status == status
    if idempotency_key:  # the stored answer, replayed, carries it too
        assert api.post("/orders", body, **headers).json() == response.json()


@pytest.mark.parametrize(("number", "status", "message"), [
    ("4242424242424241", 400, "not valid"),  # fails the Luhn check: a typing error
    ("4242", 422, "12 to 19 digits"),  # refused by the schema already
])
def test_a_card_number_that_cannot_be_a_card_is_refused_up_front(api, catalogue, number,
                                                                 status, message):
    response = api.post("/orders", order_body(payment={"method": "card",
                                                       "card_number": number}))

    assert response.status_code == status, response.content
    assert message in response.json()["errors"]["payment.card_number"][0]
    assert written() == (0, 0)  # neither the order nor the new customer


def test_schema_errors_speak_the_request_language_without_pydantic_prefixes(api_token,
                                                                            catalogue, client):
    body = order_body(currency="xyz", payment={"method": "card", "card_number": "4242"})
    response = client.post("/api/v1/orders", data=body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api_token}", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["payment.card_number"] == ["Saisissez de 12 à 19 chiffres."]
    assert errors["currency"][0].startswith("Devise non prise en charge : XYZ")
    assert written() == (0, 0)


def test_the_order_says_whether_it_may_ship_in_parts(api, catalogue):
    body = order_body()
    body["ship_complete"] = False
    response = api.post("/orders", body)
    assert response.status_code == 201, response.content
    assert Order.objects.get().ship_complete is False
