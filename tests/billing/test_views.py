"""The approval queue (Sales, Accounting, Managers) and the public card page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from billing import services
from billing.models import Payment
from orders.models import Order
from tests.factories.billing import APPROVE, DECLINE, card
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db

QUEUE = reverse("billing:approval_queue")
HTMX = {"HTTP_HX_REQUEST": "true"}


def held(place, **customer) -> Order:
    return place(customer=CustomerFactory(**{"standing": "new", **customer}),
                 payment=card(APPROVE))


def card_page(order: Order) -> str:
    return reverse("billing:card_retry",
                   kwargs={"token": services.card_link_token(order_id=order.pk)})


# --- the queue ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["Sales", "Accounting", "Manager"])
def test_approvers_see_the_queue(client_for, role):
    assert client_for(role).get(QUEUE).status_code == 200


@pytest.mark.parametrize("role", ["Warehouse", "Customer service"])
def test_other_roles_are_refused(client_for, role):
    assert client_for(role).get(QUEUE).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_queue_lists_held_orders_oldest_first_with_why(client_for, place):
    older = held(place)
    newer = place(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    reserved = place(customer=CustomerFactory(standing="trusted"), payment=card(APPROVE))
    Order.objects.filter(pk=older.pk).update(placed_at=timezone.now() - timedelta(hours=2))
    body = client_for("Sales").get(QUEUE).content.decode()
    assert older.number in body and newer.number in body
    assert reserved.number not in body
    assert body.index(older.number) < body.index(newer.number)
    assert "New customer needs approval" in body
    assert "Payment declined" in body and "Visa •••• 0002" in body


def test_queue_shows_placed_orders_only_after_the_grace_period(client_for):
    fresh = make_order(customer=CustomerFactory())
    stale = make_order(customer=CustomerFactory())
    Order.objects.filter(pk=stale.pk).update(placed_at=timezone.now() - timedelta(minutes=30))
    body = client_for("Sales").get(QUEUE).content.decode()
    assert stale.number in body and fresh.number not in body
    assert "No automatic decision" in body


def test_queue_is_paginated_and_htmx_gets_the_partial(client_for, place):
    for _ in range(3):
        held(place)
    client = client_for("Accounting")
    import billing.views

    original = billing.views.QUEUE_PAGE_SIZE
    billing.views.QUEUE_PAGE_SIZE = 2
    try:
        page2 = client.get(QUEUE, {"page": 2}, HTTP_HX_TARGET="queue", **HTMX)
    finally:
        billing.views.QUEUE_PAGE_SIZE = original
    body = page2.content.decode()
    assert "<html" not in body and 'id="queue"' in body
    assert body.count('id="order-') == 1


def test_queue_query_count_does_not_grow_with_rows(client_for, place,
                                                   django_assert_max_num_queries):
    client = client_for("Sales")
    held(place)
    with django_assert_max_num_queries(12) as few:
        client.get(QUEUE)
    for _ in range(5):
        held(place)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(QUEUE)


def test_approve_from_the_queue_with_htmx_swaps_the_row_and_writes_the_event(client_for,
                                                                             place):
    order = held(place)
    client = client_for("Accounting")
    response = client.post(reverse("billing:approve", args=[order.pk]),
                           {"reason": "known buyer"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="order-{order.pk}"' in body and "<html" not in body
    order.refresh_from_db()
    assert order.status == "reserved"
    assert order.events.filter(to_status="reserved", actor=client.user,
                               reason="known buyer").exists()


def test_reject_from_the_queue_without_js_redirects_with_a_message(client_for, place):
    order = held(place)
    client = client_for("Sales")
    response = client.post(reverse("billing:reject", args=[order.pk]),
                           {"reason": "no stock agreement"}, follow=True)
    assert response.redirect_chain[-1][0] == QUEUE
    assert "rejected" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.events.filter(to_status="cancelled", reason="no stock agreement").exists()


def test_reject_without_a_reason_is_a_400_and_changes_nothing(client_for, place):
    order = held(place)
    response = client_for("Sales").post(reverse("billing:reject", args=[order.pk]),
                                        {"reason": ""}, **HTMX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#flash"
    order.refresh_from_db()
    assert order.status == "on_hold"


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_illegal_decision_is_409_and_changes_nothing(client_for, place, action):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(APPROVE))
    events = order.events.count()
    response = client_for("Sales").post(reverse(f"billing:{action}", args=[order.pk]),
                                        {"reason": "again"})
    assert response.status_code == 409
    assert "waits for no decision" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "reserved" and order.events.count() == events


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_decisions_need_the_approve_permission(client_for, place, action):
    order = held(place)
    response = client_for("Warehouse").post(reverse(f"billing:{action}", args=[order.pk]),
                                            {"reason": "x"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "on_hold"


def test_decisions_are_post_only(client_for, place):
    order = held(place)
    assert client_for("Sales").get(reverse("billing:approve", args=[order.pk])).status_code \
        == 405


def test_menu_shows_approvals_to_approvers_only(client_for):
    assert QUEUE in client_for("Sales").get(reverse("dashboard")).content.decode()


def test_menu_hides_approvals_from_the_warehouse(client_for):
    assert QUEUE not in client_for("Warehouse").get(reverse("dashboard")).content.decode()


# --- the signed card link -------------------------------------------------------


def declined(place, standing="trusted") -> Order:
    return place(customer=CustomerFactory(standing=standing), payment=card(DECLINE))


def form_data(page_body: str, number: str = APPROVE) -> dict:
    key = re.search(r'name="attempt_key" value="([0-9a-f]{32})"', page_body).group(1)
    return {"card_number": number, "expiry": "12/39", "cvc": "123", "attempt_key": key}


def test_valid_link_shows_the_card_form_without_logging_in(client, place):
    order = declined(place)
    response = client.get(card_page(order))
    assert response.status_code == 200
    body = response.content.decode()
    assert order.number in body and 'name="card_number"' in body


def test_good_card_through_the_link_approves_the_order(client, place):
    order = declined(place)
    url = card_page(order)
    response = client.post(url, form_data(client.get(url).content.decode()))
    assert response.status_code == 200
    assert "was authorised" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "reserved"


def test_declined_again_shows_the_error_and_keeps_the_order_on_hold(client, place):
    order = declined(place)
    url = card_page(order)
    response = client.post(url, form_data(client.get(url).content.decode(), DECLINE))
    assert response.status_code == 400
    body = response.content.decode()
    assert "declined" in body
    assert DECLINE not in body  # the card number is never echoed back
    order.refresh_from_db()
    assert order.status == "on_hold"


def test_luhn_invalid_number_is_a_field_error(client, place):
    order = declined(place)
    url = card_page(order)
    response = client.post(url, form_data(client.get(url).content.decode(),
                                          "4242424242424241"))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert Payment.objects.filter(order=order).count() == 1


def test_expired_card_is_refused_by_the_form(client, place):
    order = declined(place)
    url = card_page(order)
    data = {**form_data(client.get(url).content.decode()), "expiry": "01/20"}
    response = client.post(url, data)
    assert response.status_code == 400 and "expired" in response.content.decode()


def test_tampered_link_is_refused(client, place):
    order = declined(place)
    token = services.card_link_token(order_id=order.pk)
    other = signing.TimestampSigner(salt=services.CARD_LINK_SALT)
    forged = other.sign_object({"order": order.pk + 1}).rsplit(":", 1)[0] + ":" + \
        token.rsplit(":", 1)[1]
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged):
        response = client.get(reverse("billing:card_retry", kwargs={"token": bad}))
        assert response.status_code == 400
        assert "not valid" in response.content.decode()


def test_link_signed_for_another_purpose_is_refused(client, place):
    order = declined(place)
    token = signing.TimestampSigner(salt="something-else").sign_object({"order": order.pk})
    response = client.get(reverse("billing:card_retry", kwargs={"token": token}))
    assert response.status_code == 400


def test_expired_link_is_refused(client, place):
    order = declined(place)
    url = card_page(order)
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        response = client.get(url)
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_link_still_works_just_before_it_expires(client, place):
    order = declined(place)
    url = card_page(order)
    with time_machine.travel(timezone.now() + timedelta(hours=71)):
        assert client.get(url).status_code == 200


def test_link_of_a_settled_order_says_nothing_to_do(client, place):
    order = declined(place)
    url = card_page(order)
    client.post(url, form_data(client.get(url).content.decode()))
    response = client.get(url)
    assert response.status_code == 200
    assert "Nothing more to do" in response.content.decode()


def test_card_page_is_never_cached(client, place):
    response = client.get(card_page(declined(place)))
    assert "no-store" in response["Cache-Control"]


def test_queue_links_each_order_to_its_detail_page(client_for, place):
    order = held(place)
    body = client_for("Sales").get(QUEUE).content.decode()
    assert reverse("orders:detail", args=[order.pk]) in body
