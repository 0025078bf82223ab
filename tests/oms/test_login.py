"""Logging in through the form, and the lockout after repeated failures (django-axes)."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD


def _login(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def _is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_the_log_in_form_logs_in_and_lands_on_the_dashboard(client, make_user):
    make_user("Sales", username="sam")
    response = _login(client, "sam", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert _is_logged_in(client)


@pytest.mark.django_db
def test_five_failed_log_ins_lock_the_account_even_for_the_right_password(client, make_user):
    assert settings.AXES_FAILURE_LIMIT == 5
    make_user("Sales", username="sam")
    for _attempt in range(4):
        response = _login(client, "sam", "wrong password")
        assert response.status_code == 200  # the form again, with its error
        assert b"Please enter a correct username and password" in response.content

    locked = _login(client, "sam", "wrong password")
    assert locked.status_code == 429
    assert b"Too many failed log-in attempts" in locked.content

    refused = _login(client, "sam", PASSWORD)
    assert refused.status_code == 429
    assert b"Too many failed log-in attempts" in refused.content
    assert not _is_logged_in(client)


@pytest.mark.django_db
def test_the_lockout_is_per_account_and_address(client, make_user):
    make_user("Sales", username="sam")
    make_user("Warehouse", username="wendy")
    for _attempt in range(5):
        _login(client, "sam", "wrong password")
    assert _login(client, "sam", PASSWORD).status_code == 429
    assert _login(client, "wendy", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_successful_log_in_before_the_limit_resets_the_failures(client, make_user):
    make_user("Sales", username="sam")
    for _attempt in range(4):
        _login(client, "sam", "wrong password")
    assert _login(client, "sam", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert not _is_logged_in(client)

    # Four more failures would have made nine without the reset.
    for _attempt in range(4):
        assert _login(client, "sam", "wrong password").status_code == 200
    assert _login(client, "sam", PASSWORD).status_code == 302
    assert _is_logged_in(client)


@pytest.mark.django_db
def test_behind_the_proxy_the_lockout_keys_on_the_address_the_proxy_saw(
        client, make_user, settings):
    settings.BEHIND_TLS_PROXY = True
    make_user("Sales", username="sam")
    # Everyone arrives from the proxy (REMOTE_ADDR); a client may also send its
    # own X-Forwarded-For, which the proxy keeps in front of what it appends.
    for _attempt in range(5):
        client.post(reverse("login"), {"username": "sam", "password": "wrong password"},
                    REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.9")
    locked = client.post(reverse("login"), {"username": "sam", "password": PASSWORD},
                         REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert locked.status_code == 429

    # Sam at another address, through the same proxy, can still log in, even
    # when the attacker's forged entry is put in front of Sam's address.
    sam = client.post(reverse("login"), {"username": "sam", "password": PASSWORD},
                      REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9, 192.0.2.44")
    assert sam.status_code == 302


@pytest.mark.django_db
def test_without_the_proxy_a_forwarded_header_is_ignored(client, make_user, settings):
    settings.BEHIND_TLS_PROXY = False
    make_user("Sales", username="sam")
    for n in range(5):  # a new forged address each time changes nothing
        client.post(reverse("login"), {"username": "sam", "password": "wrong password"},
                    HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert _login(client, "sam", PASSWORD).status_code == 429
