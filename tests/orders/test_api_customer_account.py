# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""An e-mail address is not an identity: API orders for a customer on file
use the customer's account (terms, credit limit, standing) only with a token
the customer allows or a token for every customer; otherwise they are
treated as prepaid and held for review by Sales."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from inventory.models import Reservation
from oms.api import create_api_token
from oms.models import ApiScope, ApiToken
from orders.models import Order
from tests.orders.capture_support import api, api_token, catalogue, order_body  # noqa: F401

# The approval runs after the placement commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

STRANGER_ADDRESS = {"name": "Someone Else", "line1": "9 Dock Road", "postal_code": "E1 1AA",
                    "city": "London", "country": "GB"}


@pytest.fixture(autouse=True)
def billing_approver(monkeypatch):
    # tests/orders/conftest.py removes billing's approver; these tests are about its verdict.
    from billing.services import run_payment_approval
    from orders import payments

    monkeypatch.setattr(payments, "_approver", run_payment_approval)


@pytest.fixture
def account(db) -> Customer:
    """A trusted business customer buying on 30 days' terms with credit."""
    return Customer.objects.create(
        name="Acme Ltd", email="buyer@acme.example", kind="company", standing="trusted",
        payment_preference="net_terms", payment_terms_days=30, credit_limit=Decimal("10000.00"))


def acme_order(**changes) -> dict:
    return order_body(customer={"email": "BUYER@acme.example", "name": "Acme"},
                      shipping_address=STRANGER_ADDRESS, **changes)


def _post(client, raw: str, body: dict):
    return client.post("/api/v1/orders", data=body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_an_unallowed_token_naming_a_customer_on_terms_is_held_for_review(api, catalogue,
                                                                          account):
    response = api.post("/orders", acme_order(payment=None))

    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["hold_reason"]) == (
        "on_hold", "account_review")
    order = Order.objects.get()
    assert order.customer == account and order.account_unverified
    assert order.payment_method == "net_terms"  # as asked: Sales decide, nothing ships


def test_an_unallowed_card_order_is_authorised_but_still_held(api, catalogue, account):
    response = api.post("/orders", acme_order(payment={"method": "card",
                                                       "card_number": "4242424242424242"}))
    assert response.status_code == 201
    assert response.json()["hold_reason"] == "account_review"
    assert Order.objects.get().status == "on_hold"


def test_an_unallowed_bank_transfer_is_prepaid_not_on_the_customers_terms(api, catalogue,
                                                                          account):
    response = api.post("/orders", acme_order(payment={"method": "bank_transfer"}))
    assert response.status_code == 201
    assert response.json()["hold_reason"] == "prepayment_missing"


def test_an_unallowed_token_gets_no_backorder_on_the_customers_terms(api, catalogue, account):
    Customer.objects.filter(pk=account.pk).update(accepts_backorder=True)
    body = acme_order(lines=[{"sku": "MUG-1", "quantity": 51}])
    response = api.post("/orders", body)
    assert response.status_code == 409
    assert "lines.0.quantity" in response.json()["errors"]
    assert not Order.objects.exists()


def test_a_token_the_customer_allows_uses_its_account(api, catalogue, account):
    account.api_tokens.add(ApiToken.objects.get(name="webshop"))
    response = api.post("/orders", acme_order(payment=None))
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["hold_reason"]) == ("reserved", "")
    order = Order.objects.get()
    assert not order.account_unverified
    assert Reservation.objects.filter(order_id=order.pk, kind=Reservation.Kind.FIRM).exists()


def test_a_token_for_every_customer_uses_their_accounts(client, catalogue, account):
    _token, erp = create_api_token(name="erp", scopes=[ApiScope.ORDERS], all_customers=True)
    response = _post(client, erp, acme_order(payment=None))
    assert response.status_code == 201
    assert response.json()["status"] == "reserved"


def test_another_customers_allowed_token_does_not_open_this_account(client, catalogue,
                                                                    account):
    token, other = create_api_token(name="other-shop", scopes=[ApiScope.ORDERS])
    Customer.objects.create(name="Other", email="other@example.com").api_tokens.add(token)
    response = _post(client, other, acme_order(payment=None))
    assert response.status_code == 201
    assert response.json()["hold_reason"] == "account_review"
