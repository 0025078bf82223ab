"""The customer's rating on the back office: the order page and the customer
card (orders' panel on customers' page), for the roles that may read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fulfillment import services as fulfillment_services
from orders.feedback_models import OrderFeedback
from orders.inputs import FeedbackInput
from orders.services import submit_feedback
from tests.factories.fulfillment import shipped_order
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated():
    order, shipment = shipped_order(tracking_number="1ZPANEL1")
    fulfillment_services.confirm_delivery(shipment_id=shipment.pk, actor=None)
    submit_feedback(order_id=order.pk, data=FeedbackInput.parse(
        {"rating": 2, "comment": "The box was crushed."}), language="en", actor=None)
    return order


def test_the_order_page_shows_the_rating(client_for, rated):
    html = client_for("Customer service").get(
        reverse("orders:detail", args=[rated.pk])).content.decode()
    assert 'id="order-feedback"' in html and "2 / 5" in html
    assert "The box was crushed." in html


def test_a_delivered_order_without_a_rating_says_so(client_for):
    order, shipment = shipped_order(tracking_number="1ZPANEL2")
    fulfillment_services.confirm_delivery(shipment_id=shipment.pk, actor=None)
    html = client_for("Sales").get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "has not rated the order yet" in html


def test_the_warehouse_does_not_see_ratings(client_for, rated):
    html = client_for("Warehouse").get(
        reverse("orders:detail", args=[rated.pk])).content.decode()
    assert 'id="order-feedback"' not in html


def _card_queries(client, customer_id: int) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("customers:detail", args=[customer_id]))
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_customer_card_lists_the_ratings_in_constant_queries(client_for, rated):
    client = client_for("Customer service")
    one, html = _card_queries(client, rated.customer_id)
    assert 'id="customer-feedback"' in html and "The box was crushed." in html
    assert "Average 2.0 / 5" in html
    at = timezone.now() - timedelta(days=3)
    for rating in (4, 5, 5):
        OrderFeedback.objects.create(order=make_order(customer=rated.customer), rating=rating,
                                     submitted_at=at, updated_at=at)
    more, html = _card_queries(client, rated.customer_id)
    assert "Average 4.0 / 5" in html
    assert more == one


def test_the_admin_lists_ratings_read_only_with_filters(client_for, rated):
    client = client_for("Admin")
    url = reverse("admin:orders_orderfeedback_changelist")
    response = client.get(url, {"rating": "2"})
    html = response.content.decode()
    assert response.status_code == 200 and rated.number in html and "The box was crushed." in html
    assert rated.number not in client.get(url, {"rating": "5"}).content.decode()
    assert client.get(url, {"q": rated.number}).status_code == 200
    change = reverse("admin:orders_orderfeedback_change", args=[rated.feedback.pk])
    assert b'name="rating"' not in client.get(change).content
    assert client.post(change, {"rating": "5"}).status_code == 403
    assert OrderFeedback.objects.get(order=rated).rating == 2
