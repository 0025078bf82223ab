"""The customer asks for a return from the order's page: within the window
only, lines and reasons checked (nothing written on bad input), the return
shown on the page and to staff as requested, the approval e-mail that the
page promises, the race for the last unit, the rate limit on POSTs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.links import live_link_token
from orders.models import Return, ReturnChannel, ReturnStatus
from orders.services import returns as return_services
from tests.billing.test_double_submits import submit_together
from tests.factories.fulfillment import shipped_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shipped(django_capture_on_commit_callbacks, fresh_shared_cache):
    """An order whose one line shipped 2 units."""
    with django_capture_on_commit_callbacks(execute=True):
        order, _shipment = shipped_order()
    mail.outbox.clear()
    return order


def _page(order) -> str:
    return reverse("customer_order_page", kwargs={"token": live_link_token(order)})


def _post(client, order, quantity="1", reason="damaged", **extra):
    line = order.lines.get()
    return client.post(reverse("customer_start_return", kwargs={"token": live_link_token(order)}),
                       {f"quantity-{line.pk}": quantity, f"reason-{line.pk}": reason, **extra})


def test_the_page_offers_the_return_form_for_shipped_units(client, shipped):
    html = client.get(_page(shipped)).content.decode()
    line = shipped.lines.get()
    assert 'data-form="return"' in html
    assert f'name="quantity-{line.pk}"' in html and 'max="2"' in html


def test_a_requested_return_shows_on_the_page_and_in_the_back_office(
        client, client_for, shipped):
    response = _post(client, shipped, "1", "defective", note="Screen flickers")
    assert response.status_code == 302
    ret = Return.objects.get(order=shipped)
    assert (ret.status, ret.channel, ret.requested_by) == (ReturnStatus.REQUESTED,
                                                           ReturnChannel.WEB, None)
    (line,) = ret.lines.all()
    assert (line.quantity, line.reason) == (1, "defective")
    html = client.get(response["Location"]).content.decode()
    assert f'data-return="{ret.number}"' in html
    assert "1 × " in html and "Defective" in html and "Requested" in html
    assert "waits for our approval" in html
    assert f"Return {ret.number} requested." in html
    staff = client_for("Customer service").get(
        reverse("orders:returns") + "?status=requested").content.decode()
    assert ret.number in staff


def test_the_approval_email_the_page_promises_follows_when_staff_approve(
        client, shipped, make_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, shipped)
    assert mail.outbox == []  # nothing until a person approves, as the page says
    ret = Return.objects.get(order=shipped)
    with django_capture_on_commit_callbacks(execute=True):
        return_services.approve_return(return_id=ret.pk, actor=make_user("Customer service"))
    (email,) = mail.outbox
    assert email.to == [shipped.customer.email]
    assert shipped.number in email.subject and "instructions and label" in email.subject
    assert any(name.endswith(".pdf") for name, _content, _type in email.attachments)


@pytest.mark.parametrize(("quantity", "reason", "extra", "message"), [
    ("3", "damaged", {}, "At most 2 can be returned"),
    ("-1", "damaged", {}, ""),
    ("0", "damaged", {}, "Return at least one unit."),
    ("1", "returned_to_sender", {}, "Choose a reason for each item you return."),
    ("1", "", {}, "Choose a reason for each item you return."),
    ("1", "nonsense", {}, ""),
    ("0", "damaged", {"quantity-999999": "1", "reason-999999": "damaged"},
     "This line is not on the order."),
])
def test_bad_input_is_a_field_error_and_writes_nothing(client, shipped, quantity, reason,
                                                        extra, message):
    response = _post(client, shipped, quantity, reason, **extra)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error"' in html and "nothing was saved" in html
    assert message in html
    assert not Return.objects.exists()


def test_after_the_window_the_page_explains_and_offers_no_form(client, shipped, settings):
    settings.RETURN_WINDOW_DAYS = 30
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        html = client.get(_page(shipped)).content.decode()
        assert "data-return-window-closed" in html and "within 30 days" in html
        assert 'data-form="return"' not in html
        assert _post(client, shipped).status_code == 400
    assert not Return.objects.exists()


def test_a_wrong_token_answers_the_pages_404(client, shipped):
    line = shipped.lines.get()
    response = client.post(reverse("customer_start_return", kwargs={"token": "x" * 43}),
                           {f"quantity-{line.pk}": "1", f"reason-{line.pk}": "damaged"})
    assert response.status_code == 404
    assert not Return.objects.exists()


def test_posts_count_against_the_rate_limit(client, shipped, settings):
    settings.ORDER_PAGE_RATE_LIMIT_PER_MINUTE = 2
    assert _post(client, shipped, "0").status_code == 400
    assert _post(client, shipped, "0").status_code == 400
    limited = _post(client, shipped, "1")
    assert limited.status_code == 429
    assert not Return.objects.exists()


def test_two_requests_for_the_last_unit_at_once_one_wins(client, shipped):
    assert _post(client, shipped, "1").status_code == 302  # one unit left
    line = shipped.lines.get()
    url = reverse("customer_start_return", kwargs={"token": live_link_token(shipped)})
    data = {f"quantity-{line.pk}": "1", f"reason-{line.pk}": "damaged"}
    statuses = submit_together([Client(), Client()], url, data)
    assert sorted(statuses) == [302, 400]
    assert Return.objects.filter(order=shipped).count() == 2
    assert sum(ret.lines.get().quantity for ret in Return.objects.filter(order=shipped)) == 2


def test_the_token_never_leaves_the_site_but_the_forms_pass_csrf(shipped):
    client = Client(enforce_csrf_checks=True)
    page = client.get(_page(shipped))
    assert page["Referrer-Policy"] == "same-origin"  # a browser sends Origin to its own site
    line = shipped.lines.get()
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("customer_start_return", kwargs={"token": live_link_token(shipped)}),
        {f"quantity-{line.pk}": "1", f"reason-{line.pk}": "damaged",
         "csrfmiddlewaretoken": token}, headers={"origin": "http://testserver"})
    assert response.status_code == 302


def test_the_pages_query_count_does_not_grow_with_its_returns(client, shipped):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_page(shipped)).status_code == 200
        return len(captured)

    _post(client, shipped, "1")
    with_one = queries()
    _post(client, shipped, "1", "defective")
    assert Return.objects.count() == 2
    assert queries() == with_one
