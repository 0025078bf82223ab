"""The customer's rating of a delivered order on their page: only after
delivery, one answer per order (changeable for a day), field errors for bad
input with nothing written, counted like the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment import services as fulfillment_services
from oms.lib.errors import NotAllowed
from orders.feedback_models import OrderFeedback
from orders.inputs import FeedbackInput
from orders.links import live_link_token
from orders.services import submit_feedback
from tests.factories.fulfillment import shipped_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_window(fresh_shared_cache):
    """Each test starts with the customer page's rate limit unused."""


@pytest.fixture
def delivered():
    order, shipment = shipped_order(tracking_number="1ZRATE01")
    fulfillment_services.confirm_delivery(shipment_id=shipment.pk, actor=None)
    order.refresh_from_db()
    assert order.is_delivered
    return order


def _urls(order) -> tuple[str, str]:
    token = live_link_token(order)
    return (reverse("customer_order_page", kwargs={"token": token}),
            reverse("customer_order_feedback", kwargs={"token": token}))


def test_the_form_shows_only_after_delivery(client):
    order, _shipment = shipped_order(tracking_number="1ZRATE02")
    page, post = _urls(order)
    assert "How was your order?" not in client.get(page).content.decode()
    response = client.post(post, {"rating": "5"})
    assert response.status_code == 409
    assert not OrderFeedback.objects.exists()


def test_a_rating_is_saved_and_shown_on_the_page(client, delivered):
    page, post = _urls(delivered)
    shown = client.get(page)
    form = shown.content.decode()
    assert 'id="feedback"' in form and 'name="rating"' in form
    # No Referer with the token to other sites; the form still posts with its origin.
    assert shown["Referrer-Policy"] == "same-origin"
    response = client.post(post, {"rating": "4", "comment": "Quick, well packed."})
    assert response.status_code == 302 and response["Location"] == page + "#feedback"
    feedback = OrderFeedback.objects.get(order=delivered)
    assert (feedback.rating, feedback.comment) == (4, "Quick, well packed.")
    assert feedback.language == (delivered.customer.preferred_language or "en")
    html = client.get(page).content.decode()
    assert "Your rating: 4 of 5" in html and "Quick, well packed." in html


@pytest.mark.parametrize("body, field", [
    ({"rating": "0"}, "rating"),
    ({"rating": "6"}, "rating"),
    ({"rating": "abc"}, "rating"),
    ({"comment": "no stars"}, "rating"),
    ({"rating": "3", "comment": "x" * 2001}, "comment"),
])
def test_bad_input_is_a_field_error_and_writes_nothing(client, delivered, body, field):
    _page, post = _urls(delivered)
    response = client.post(post, body)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="error" role="alert"') == 1
    message = {"rating": "Choose a rating from 1 to 5.", "comment": "At most 2000 characters."}
    if "rating" not in body:
        message["rating"] = "This field is required."
    assert message[field] in html
    assert not OrderFeedback.objects.exists()


def test_a_second_answer_within_a_day_changes_the_first(client, delivered):
    _page, post = _urls(delivered)
    client.post(post, {"rating": "2", "comment": "Late"})
    client.post(post, {"rating": "4", "comment": "Late, but fine"})
    feedback = OrderFeedback.objects.get(order=delivered)
    assert (feedback.rating, feedback.comment) == (4, "Late, but fine")


def test_after_a_day_the_answer_is_kept_and_a_new_one_refused(client, delivered):
    page, post = _urls(delivered)
    client.post(post, {"rating": "2", "comment": "Late"})
    OrderFeedback.objects.update(submitted_at=timezone.now() - timedelta(days=1, minutes=1))
    response = client.post(post, {"rating": "5"})
    assert response.status_code == 409
    assert "we already have your rating" in response.content.decode()
    assert OrderFeedback.objects.get(order=delivered).rating == 2
    html = client.get(page).content.decode()
    assert "Your rating: 2 of 5" in html and 'name="rating"' not in html


def test_the_service_refuses_an_order_not_delivered():
    order, _shipment = shipped_order(tracking_number="1ZRATE03")
    with pytest.raises(NotAllowed):
        submit_feedback(order_id=order.pk, data=FeedbackInput.parse({"rating": 5}),
                        language="en", actor=None)


def test_posting_is_rate_limited_like_the_page(client, delivered, settings):
    settings.ORDER_PAGE_RATE_LIMIT_PER_MINUTE = 1
    page, post = _urls(delivered)
    assert client.get(page).status_code == 200
    response = client.post(post, {"rating": "5"})
    assert response.status_code == 429 and response["Retry-After"]
    assert not OrderFeedback.objects.exists()


def test_a_wrong_token_is_the_same_404(client, delivered):
    response = client.post(reverse("customer_order_feedback", kwargs={"token": "nope"}),
                           {"rating": "5"})
    assert response.status_code == 404
    assert not OrderFeedback.objects.exists()
