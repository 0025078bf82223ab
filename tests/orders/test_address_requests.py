"""Address change requests: the customer asks from their order page before
shipment; customer service accepts (through the order change, with its
e-mail) or refuses (the reason e-mailed); bad input, a shipped or cancelled
order and an order that ships before the decision write nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.inputs import AddressInput
from inventory.models import Warehouse
from oms.lib.errors import Conflict, NotAllowed
from orders.links import live_link_token
from orders.models import AddressChangeRequest, EventKind, OrderStatus
from orders.selectors import pending_address_changes
from orders.services import cancel_order
from orders.services.address_requests import (
    AddressRefusal,
    accept_address_change,
    refuse_address_change,
    request_address_change,
)
from tests.factories.customers import address_data
from tests.factories.fulfillment import reserved_order, ship_reserved
from tests.factories.orders import stocked_product

pytestmark = pytest.mark.django_db

NEW = address_data(name="Ada Lovelace", line1="3 Quai Voltaire", postal_code="75007")


@pytest.fixture(autouse=True)
def _fresh_rate_window(fresh_shared_cache):
    """Each test starts with the customer page's rate limit unused."""


@pytest.fixture
def order():
    return reserved_order([(stocked_product(10), 1)],
                          shipping_address=address_data())


def _ask(client, order, **fields):
    url = reverse("customer_address_request", args=[live_link_token(order)])
    return client.post(url, {**NEW, **fields})


def test_the_customer_asks_and_customer_service_accepts_through_the_order_change(
        client, client_for, order, make_user, mailoutbox, django_capture_on_commit_callbacks):
    page = client.get(reverse("customer_order_page", args=[live_link_token(order)]))
    assert "Deliver to another address" in page.content.decode()
    response = _ask(client, order)
    assert response.status_code == 200
    body = response.content.decode()
    assert "our customer service will confirm the new delivery address" in body
    assert 'data-address-request="pending"' in body
    assert "Deliver to another address" not in body  # one request waits at a time
    request = AddressChangeRequest.objects.get(order=order)
    assert request.is_pending and request.address["line1"] == "3 Quai Voltaire"
    assert order.events.filter(kind=EventKind.ADDRESS_REQUEST).count() == 1

    staff = client_for("Sales")
    detail = staff.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Accept the new address" in detail and "3 Quai Voltaire" in detail
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        accepted = staff.post(reverse("orders:accept_address", args=[order.pk, request.pk]))
    assert accepted.status_code == 302
    order.refresh_from_db()
    request.refresh_from_db()
    assert order.shipping_address["line1"] == "3 Quai Voltaire"
    assert request.status == "accepted" and request.decided_at is not None
    assert request.decided_by is not None and request.decided_by.groups.filter(
        name="Sales").exists()
    changed = order.events.get(kind=EventKind.CHANGED)
    assert "shipping_address" in changed.data["fields"]
    assert [m.subject for m in mailoutbox] == [f"Your order {order.number} was changed"]
    assert "Address change to 3 Quai Voltaire, Paris, FR accepted." in [
        e.summary for e in order.events.filter(kind=EventKind.ADDRESS_REQUEST)]


def test_a_refusal_emails_the_customer_the_reason(
        client_for, order, mailoutbox, django_capture_on_commit_callbacks):
    request = request_address_change(order_id=order.pk, data=AddressInput.parse(NEW),
                                     actor=None)
    staff = client_for("Sales")
    url = reverse("orders:refuse_address", args=[order.pk, request.pk])
    blank = staff.post(url, {"reason": " "})
    assert blank.status_code == 400
    request.refresh_from_db()
    assert request.is_pending
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(url, {"reason": "The parcel is already labelled."}).status_code == 302
    request.refresh_from_db()
    assert request.status == "refused" and request.reason == "The parcel is already labelled."
    (mail,) = mailoutbox
    assert mail.to == [order.customer.email]
    assert "we cannot deliver order" in mail.body and "3 Quai Voltaire" in mail.body
    assert "Reason: The parcel is already labelled." in mail.body
    order.refresh_from_db()
    assert order.shipping_address["line1"] == address_data()["line1"]
    with pytest.raises(NotAllowed, match="already refused"):
        accept_address_change(request_id=request.pk, actor=None)


@pytest.mark.parametrize(("fields", "path", "message"), [
    ({"line1": ""}, "line1", ""),
    ({"city": "", "postal_code": ""}, "city", ""),
    ({"country": "XX"}, "country", ""),
    ({"country": "DE"}, "country", "Another country changes the order"),
])
def test_bad_addresses_are_field_errors_and_write_nothing(client, order, fields, path,
                                                          message):
    response = _ask(client, order, **fields)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error"' in body and message in body
    assert 'value="3 Quai Voltaire"' in body or "line1" in fields  # as typed
    assert not AddressChangeRequest.objects.exists()
    assert not order.events.filter(kind=EventKind.ADDRESS_REQUEST).exists()


def test_the_same_address_or_a_second_waiting_request_is_refused(order):
    with pytest.raises(Exception, match="already the delivery address"):
        request_address_change(order_id=order.pk, data=AddressInput.parse(address_data()),
                               actor=None)
    request_address_change(order_id=order.pk, data=AddressInput.parse(NEW), actor=None)
    with pytest.raises(Conflict, match="already waiting"):
        request_address_change(order_id=order.pk,
                               data=AddressInput.parse({**NEW, "line1": "1 Rue X"}),
                               actor=None)
    assert AddressChangeRequest.objects.count() == 1


def test_a_shipped_or_cancelled_order_refuses_the_request_writing_nothing(client, order):
    ship_reserved(order, Warehouse.objects.get(code="MAIN"))
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    page = client.get(reverse("customer_order_page", args=[live_link_token(order)]))
    assert "Deliver to another address" not in page.content.decode()
    response = _ask(client, order)
    assert response.status_code == 409
    assert "has already shipped: its delivery address can no longer change" in (
        response.content.decode())

    cancelled = reserved_order([(stocked_product(10), 1)], shipping_address=address_data())
    cancel_order(order_id=cancelled.pk, actor=None, reason="customer")
    response = _ask(client, cancelled)
    assert response.status_code == 409 and "is cancelled" in response.content.decode()
    assert not AddressChangeRequest.objects.exists()


def test_an_order_that_ships_before_the_decision_refuses_the_acceptance_cleanly(order):
    request = request_address_change(order_id=order.pk, data=AddressInput.parse(NEW),
                                     actor=None)
    ship_reserved(order, Warehouse.objects.get(code="MAIN"))
    events_before = order.events.count()
    with pytest.raises(NotAllowed) as refused:
        accept_address_change(request_id=request.pk, actor=None)
    assert refused.value.status == 409
    assert "has already shipped" in refused.value.message
    assert "Refuse the request with a reason" in refused.value.message
    request.refresh_from_db()
    order.refresh_from_db()
    assert request.is_pending and order.shipping_address["line1"] == address_data()["line1"]
    assert order.events.count() == events_before
    refuse_address_change(request_id=request.pk, actor=None,
                          data=AddressRefusal.parse({"reason": "It had already left."}))
    request.refresh_from_db()
    assert request.status == "refused"


def test_pending_address_changes_lists_the_waiting_requests_oldest_first(order):
    other = reserved_order([(stocked_product(10), 1)], shipping_address=address_data())
    first = request_address_change(order_id=order.pk, data=AddressInput.parse(NEW), actor=None)
    second = request_address_change(order_id=other.pk, data=AddressInput.parse(NEW),
                                     actor=None)
    decided = reserved_order([(stocked_product(10), 1)], shipping_address=address_data())
    done = request_address_change(order_id=decided.pk, data=AddressInput.parse(NEW),
                                  actor=None)
    refuse_address_change(request_id=done.pk, actor=None,
                          data=AddressRefusal.parse({"reason": "no"}))
    with CaptureQueriesContext(connection) as queries:
        waiting = pending_address_changes()
        numbers = [item.order.number for item in waiting] + [
            item.order.customer.name for item in waiting]
    assert len(queries) == 1 and numbers
    assert [item.pk for item in waiting] == [first.pk, second.pk]
