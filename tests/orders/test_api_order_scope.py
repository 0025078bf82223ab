# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""What an API token can read: the orders it placed, nothing else; and the
back office shows which token placed an order."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, override

from oms.api import create_api_token
from oms.models import ApiScope, ApiToken
from orders.models import Order
from tests.factories.orders import make_order
from tests.orders.capture_support import api, api_token, catalogue, order_body  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_token(db) -> str:
    _token, raw = create_api_token(name="erp", scopes=[ApiScope.ORDERS])
    return raw


def _get(client, token: str, number: str):
    return client.get(f"/api/v1/orders/{number}", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_order_records_the_token_that_placed_it(api, catalogue):
    number = api.post("/orders", order_body()).json()["number"]

    order = Order.objects.get(number=number)
    assert order.api_token == ApiToken.objects.get(name="webshop")
    assert order.created_by is None


def test_a_token_reads_its_own_orders_and_not_another_tokens(client, api, catalogue,
                                                             other_token):
    number = api.post("/orders", order_body()).json()["number"]

    mine = api.get(f"/orders/{number}")
    assert mine.status_code == 200 and mine.json()["number"] == number
    theirs = _get(client, other_token, number)
    missing = _get(client, other_token, "SO-1999-000001")
    # Same answer as a number that does not exist: existence is not revealed.
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert number not in theirs.content.decode()


def test_back_office_orders_are_404_for_every_token(client, api, catalogue, other_token):
    order = make_order(lines=[(catalogue["MUG-1"], 1)], channel="phone")
    assert order.api_token_id is None

    assert api.get(f"/orders/{order.number}").status_code == 404
    assert _get(client, other_token, order.number).status_code == 404
    assert (api.get(f"/orders/{order.number}").json()
            == api.get("/orders/SO-1999-000001").json())


def test_a_revoked_token_is_401_even_for_its_own_orders(api, catalogue):
    number = api.post("/orders", order_body()).json()["number"]
    ApiToken.objects.update(revoked_at=timezone.now())

    assert api.get(f"/orders/{number}").status_code == 401


def test_an_idempotent_replay_answers_the_same_order_owned_by_the_token(api, catalogue):
    first = api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="k-1")

    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.get().api_token.name == "webshop"


def test_detail_page_says_which_token_placed_the_order(client_for, api, catalogue):
    number = api.post("/orders", order_body()).json()["number"]
    order = Order.objects.get(number=number)

    body = client_for("Customer service").get(
        reverse("orders:detail", args=[order.pk])).content.decode()

    # In the status card and, instead of "System", on the placement events.
    assert body.count("Placed through API token webshop") == 3
    timeline = body[body.index('class="timeline"'):]
    created = timeline[timeline.index('data-kind="created"'):]
    assert "System" not in created[:created.index("</li>")]


def test_back_office_order_detail_names_no_token(client_for, catalogue):
    order = make_order(lines=[(catalogue["MUG-1"], 1)])

    body = client_for("Customer service").get(
        reverse("orders:detail", args=[order.pk])).content.decode()

    assert "API token" not in body
    assert "System" in body


def test_the_label_is_translated_to_french():
    with override("fr"):
        assert (gettext("Placed through API token %(name)s") % {"name": "erp"}
                == "Passée via le jeton d'API erp")


def test_admin_shows_the_token_in_the_list_and_on_the_order(client_for, api, catalogue):
    number = api.post("/orders", order_body()).json()["number"]
    order = Order.objects.get(number=number)
    client = client_for("Admin")

    listing = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "column-api_token" in listing and "webshop (" in listing
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "field-api_token" in page and "webshop (" in page
