"""A back-office session idle for SESSION_IDLE_TIMEOUT_MINUTES is signed out;
activity slides the limit, and the session is written at most once a minute
for it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from oms.lib.idle import LAST_SEEN_SESSION_KEY
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(settings, client_for):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = client_for("Sales")
        assert client.get(reverse("orders:list")).status_code == 200
        client.clock = clock
        yield client


def test_a_request_before_the_idle_limit_is_served(signed_in):
    signed_in.clock.shift(timedelta(minutes=29))
    assert signed_in.get(reverse("orders:list")).status_code == 200


def test_a_request_after_the_idle_limit_lands_on_the_login_page(signed_in):
    signed_in.clock.shift(timedelta(minutes=31))
    response = signed_in.get(reverse("orders:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in signed_in.session
    # Signed out for good: the next request is anonymous too.
    assert signed_in.get(reverse("orders:list")).status_code == 302


def test_an_htmx_request_after_the_idle_limit_moves_the_browser_to_login(signed_in):
    signed_in.clock.shift(timedelta(minutes=31))
    response = signed_in.get(reverse("orders:list"), HTTP_HX_REQUEST="true",
                             HTTP_HX_CURRENT_URL="http://testserver/orders/?page=2")
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=")
    assert "_auth_user_id" not in signed_in.session


def test_activity_slides_the_limit(signed_in):
    for _ in range(3):
        signed_in.clock.shift(timedelta(minutes=20))
        assert signed_in.get(reverse("orders:list")).status_code == 200


def test_the_session_is_written_at_most_once_a_minute(signed_in):
    first_seen = signed_in.session[LAST_SEEN_SESSION_KEY]
    signed_in.clock.shift(timedelta(seconds=30))
    response = signed_in.get(reverse("orders:list"))
    assert response.status_code == 200
    # Nothing changed in the session: Django neither saved it nor re-sent the cookie.
    assert "sessionid" not in response.cookies
    assert signed_in.session[LAST_SEEN_SESSION_KEY] == first_seen

    signed_in.clock.shift(timedelta(seconds=31))
    signed_in.get(reverse("orders:list"))
    assert signed_in.session[LAST_SEEN_SESSION_KEY] > first_seen


def test_the_first_request_after_logging_in_writes_no_session(client, make_user):
    make_user("Sales")
    assert client.post(reverse("login"), {"username": "sales", "password": PASSWORD}
                       ).status_code == 302
    assert LAST_SEEN_SESSION_KEY in client.session
    response = client.get(reverse("orders:list"))
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
