"""The customer's order page: the link in every e-mail, one 404 for every bad
token, the rate limit, and nothing of other orders or staff notes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.link_models import OrderLink
from orders.links import live_link_token, order_for_token, order_page_url
from orders.services.transitions import add_note
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_rate_window(fresh_shared_cache):
    """Each test starts with the customer page's rate limit unused."""


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _link_in(body: str) -> str:
    match = re.search(r"Follow your order: (\S+)", body)
    assert match, body
    return match.group(1)


def test_every_email_carries_the_same_live_link(mailoutbox, settings):
    order = make_order()
    url = _link_in(mailoutbox[0].body)
    assert url.startswith(settings.SITE_URL.rstrip("/") + "/o/")
    assert url in mailoutbox[0].alternatives[0][0]
    assert order_page_url(order) == url  # the next e-mail reuses it
    assert OrderLink.objects.filter(order=order).count() == 1
    link = OrderLink.objects.get(order=order)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert token not in (link.salt, link.token_hash)  # the token is not stored


def test_the_page_shows_the_order_and_no_staff_notes(client, mailoutbox, make_user):
    order = make_order()
    other = make_order()
    add_note(order_id=order.pk, text="Customer is difficult, check twice", actor=make_user())
    response = client.get(_path(_link_in(mailoutbox[0].body)))
    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html and order.lines.get().name in html
    assert other.number not in html
    assert "difficult" not in html
    assert "/orders/" not in html  # no back-office navigation
    assert response["X-Robots-Tag"] == "noindex"


def test_the_page_is_in_the_customers_language(client):
    from tests.factories.customers import CustomerFactory
    order = make_order(customer=CustomerFactory(preferred_language="fr"))
    html = client.get(reverse("customer_order_page",
                              kwargs={"token": live_link_token(order)})).content.decode()
    assert "24,00" in html


@pytest.mark.parametrize("spoil", ["wrong", "tampered", "expired", "revoked", "empty"])
def test_every_bad_token_answers_the_same_404(client, spoil, make_user):
    order = make_order()
    token = live_link_token(order)
    link = OrderLink.objects.get(order=order)
    if spoil == "wrong":
        token = "x" * 43
    elif spoil == "tampered":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif spoil == "expired":
        OrderLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    elif spoil == "revoked":
        from orders.links import revoke_order_links
        assert revoke_order_links(order_id=order.pk, actor=make_user()) == 1
    elif spoil == "empty":
        token = " "
    response = client.get(f"/o/{token}/")
    assert response.status_code == 404
    assert "This link does not open an order" in response.content.decode()
    assert order.number not in response.content.decode()


def test_another_orders_token_opens_only_that_order(client):
    order, other = make_order(), make_order()
    html = client.get(f"/o/{live_link_token(other)}/").content.decode()
    assert other.number in html and order.number not in html


def test_after_revocation_the_next_email_carries_a_new_link(client_for):
    order = make_order()
    old = live_link_token(order)
    client = client_for("Sales")
    response = client.post(reverse("orders:revoke_link", kwargs={"pk": order.pk}))
    assert response.status_code == 302
    assert order_for_token(old) is None
    new = live_link_token(order)
    assert new != old and order_for_token(new) == order
    assert client.get(f"/o/{old}/").status_code == 404
    assert client.get(f"/o/{new}/").status_code == 200


def test_revoking_needs_the_permission(client_for):
    order = make_order()
    token = live_link_token(order)
    response = client_for("Warehouse").post(reverse("orders:revoke_link",
                                                    kwargs={"pk": order.pk}))
    assert response.status_code == 403
    assert order_for_token(token) == order


def test_an_expired_link_is_replaced_for_the_next_email():
    order = make_order()
    old = live_link_token(order)
    OrderLink.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(1))
    new = live_link_token(order)
    assert new != old
    assert OrderLink.objects.filter(order=order, revoked_at__isnull=True).count() == 1


def test_requests_beyond_the_limit_answer_429(client, settings):
    settings.ORDER_PAGE_RATE_LIMIT_PER_MINUTE = 3
    order = make_order()
    token = live_link_token(order)
    codes = [client.get(f"/o/{token if i % 2 else 'nope'}/").status_code for i in range(3)]
    assert codes == [404, 200, 404]
    response = client.get(f"/o/{token}/")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    # Another address counts on its own.
    assert client.get(f"/o/{token}/", REMOTE_ADDR="10.9.9.9").status_code == 200


# Every form the customer posts from the page.
PAGE_FORMS = {
    "customer_start_return": {"quantity-1": "1", "reason-1": "damaged"},
    "customer_order_feedback": {"rating": "5", "comment": "Fine."},
    "customer_address_request": {"name": "A", "line1": "1 Rue", "postal_code": "75001",
                                 "city": "Paris", "country": "FR"},
}


@pytest.mark.parametrize("name", PAGE_FORMS)
def test_every_form_of_the_page_answers_a_revoked_token_with_the_same_404(
        client, make_user, name):
    from orders.links import revoke_order_links
    from orders.models import AddressChangeRequest, OrderFeedback, Return

    order = make_order()
    token = live_link_token(order)
    assert revoke_order_links(order_id=order.pk, actor=make_user()) == 1
    for bad in (token, "x" * 43):
        response = client.post(reverse(name, kwargs={"token": bad}), PAGE_FORMS[name])
        assert response.status_code == 404
        assert "This link does not open an order" in response.content.decode()
        assert order.number not in response.content.decode()
        assert "no-store" in response["Cache-Control"]
    assert not Return.objects.exists()
    assert not OrderFeedback.objects.exists()
    assert not AddressChangeRequest.objects.exists()


@pytest.mark.parametrize("name", PAGE_FORMS)
def test_every_form_of_the_page_takes_posts_only_and_counts_against_the_limit(
        client, settings, name):
    settings.ORDER_PAGE_RATE_LIMIT_PER_MINUTE = 1
    url = reverse(name, kwargs={"token": live_link_token(make_order())})
    assert client.get(url).status_code == 405
    assert client.post(url, PAGE_FORMS[name]).status_code != 429
    response = client.post(url, PAGE_FORMS[name])
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1


def test_the_page_shows_the_real_shipment_and_the_customers_returns(
        client, django_capture_on_commit_callbacks):
    from orders.inputs import ReturnRequest
    from orders.services import returns as return_services
    from tests.factories.fulfillment import shipped_order

    with django_capture_on_commit_callbacks(execute=True):
        order, shipment = shipped_order()
    ret = return_services.request_return(data=ReturnRequest.parse({
        "order_id": order.pk, "channel": "phone", "lines": [
            {"order_line_id": order.lines.get().pk, "quantity": 1, "reason": "damaged"}]}),
        actor=None)
    html = client.get(f"/o/{live_link_token(order)}/").content.decode()
    assert shipment.number in html and shipment.tracking_number in html
    if shipment.tracking_url:
        assert shipment.tracking_url in html
    assert ret.number in html and "Requested" in html
