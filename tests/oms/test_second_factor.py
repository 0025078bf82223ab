"""The TOTP second factor of the Admin and Accounting roles: set up once with
a QR code, then a code every session; every back-office page and the Django
admin wait for it, public pages and the bearer-token API do not, and other
roles never see it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from oms.lib.roles import ACCOUNTING, ADMIN
from tests.oms.test_api_tokens import bearer, create_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.OTP_REQUIRED_ROLES = [ADMIN, ACCOUNTING]


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    token = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits,
                 drift=device.drift)
    return f"{token:06d}"


def wrong_code_for(device: TOTPDevice) -> str:
    right = int(code_for(device))
    return f"{(right + 500000) % 1000000:06d}"


def confirmed_device_of(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_an_accounting_user_without_a_device_is_sent_to_setup(client_for):
    client = client_for("Accounting")
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('otp_setup')}?next=%2F"

    page = client.get(response["Location"])
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=client.user)
    assert not device.confirmed
    body = page.content.decode()
    assert "<svg" in body
    secret = page.context["secret"].replace(" ", "")
    assert secret and secret in body.replace(" ", "")
    # Reloading shows the same secret, not a new device each time.
    assert client.get(response["Location"]).context["secret"] == page.context["secret"]
    assert TOTPDevice.objects.filter(user=client.user).count() == 1


def test_a_wrong_code_is_refused_and_changes_nothing(client_for):
    client = client_for("Accounting")
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=client.user)

    response = client.post(reverse("otp_setup"), {"token": wrong_code_for(device), "next": "/"})

    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_malformed_code_is_a_form_error(client_for):
    client = client_for("Accounting")
    client.get(reverse("otp_setup"))
    response = client.post(reverse("otp_setup"), {"token": "12ab"})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert not TOTPDevice.objects.get(user=client.user).confirmed


def test_the_right_code_confirms_the_device_and_verifies_the_session(client_for):
    client = client_for("Accounting")
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=client.user)

    response = client.post(reverse("otp_setup"), {"token": code_for(device),
                                                  "next": reverse("billing:receivables")})

    assert response.status_code == 302
    assert response["Location"] == reverse("billing:receivables")
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("billing:receivables")).status_code == 200


def test_an_accounting_user_with_a_device_is_sent_to_verify_and_admitted_after_a_correct_code(
        client_for):
    client = client_for("Accounting")
    device = confirmed_device_of(client.user)

    response = client.get(reverse("billing:receivables"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify"))
    assert client.get(response["Location"]).status_code == 200

    refused = client.post(reverse("otp_verify"), {"token": wrong_code_for(device)})
    assert refused.status_code == 200 and refused.context["form"].errors["token"]
    assert client.get(reverse("dashboard")).status_code == 302

    # django-otp throttles a device after a wrong code (1 s, doubling).
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        admitted = client.post(reverse("otp_verify"), {"token": code_for(device),
                                                       "next": reverse("billing:receivables")})
    assert admitted.status_code == 302
    assert admitted["Location"] == reverse("billing:receivables")
    assert client.get(reverse("billing:receivables")).status_code == 200


def test_a_code_is_accepted_once_only(client_for, client, make_user):
    """A code seen over a shoulder cannot open a second session."""
    first = client_for("Accounting")
    device = confirmed_device_of(first.user)
    token = code_for(device)
    assert first.post(reverse("otp_verify"), {"token": token}).status_code == 302

    from django.test import Client

    second = Client()
    second.force_login(first.user)
    response = second.post(reverse("otp_verify"), {"token": token})
    assert response.status_code == 200 and response.context["form"].errors["token"]


def test_setup_never_enrols_a_second_device_from_an_unverified_session(client_for):
    client = client_for("Accounting")
    confirmed_device_of(client.user)
    response = client.get(reverse("otp_setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify"))
    assert TOTPDevice.objects.filter(user=client.user).count() == 1


def test_the_admin_site_is_guarded_until_verified(client_for):
    client = client_for("Admin")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('otp_setup')}?next=%2Fadmin%2F"

    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=client.user)
    client.post(reverse("otp_setup"), {"token": code_for(device)})
    assert client.get("/admin/").status_code == 200


def test_a_superuser_without_the_admin_group_needs_the_code_too(client, make_user):
    user = make_user(None, username="root", is_superuser=True, is_staff=True)
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_setup"))


def test_an_htmx_request_moves_the_whole_browser_to_the_code_page(client_for):
    client = client_for("Accounting")
    confirmed_device_of(client.user)
    response = client.get(reverse("billing:receivables"), HTTP_HX_REQUEST="true",
                          HTTP_HX_CURRENT_URL="http://testserver/billing/receivables/?page=2")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("otp_verify") + "?next=")
    assert "receivables" in response["HX-Redirect"]


def test_public_pages_stay_reachable_before_the_second_factor(client_for):
    client = client_for("Accounting")
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("login")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.session.get("_auth_user_id") is None


def test_an_unverified_session_still_uses_the_api_with_its_bearer_token(client_for):
    raw = create_token("webshop")
    client = client_for("Accounting")
    response = client.get("/api/v1/products", **bearer(raw))
    assert response.status_code == 200


def test_a_sales_user_is_unaffected(client_for):
    client = client_for("Sales")
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("orders:list")).status_code == 200
    # The code pages send a user who needs no code on to the page asked for.
    assert client.get(reverse("otp_setup"))["Location"] == reverse("dashboard")
    assert not TOTPDevice.objects.exists()


def test_the_next_page_never_leaves_the_site(client_for):
    client = client_for("Accounting")
    device = confirmed_device_of(client.user)
    response = client.post(reverse("otp_verify"), {"token": code_for(device),
                                                   "next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard")


def test_roles_outside_the_setting_need_no_code(settings, client_for):
    settings.OTP_REQUIRED_ROLES = []
    assert client_for("Accounting").get(reverse("dashboard")).status_code == 200


def test_anonymous_users_never_need_a_code():
    from oms.lib.second_factor import requires_second_factor

    assert not requires_second_factor(AnonymousUser())


def test_a_lost_database_before_the_view_answers_503(client_for, transactional_db):
    import psycopg
    from django.db import connection

    client = client_for("Accounting")
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    try:
        response = client.get(reverse("dashboard"), HTTP_HX_REQUEST="true")
    finally:
        connection.close()
    assert response.status_code == 503
    assert response["HX-Retarget"] == "#flash"


def _required_roles_with(**environment: str) -> list[str]:
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    script = ("import json; from django.conf import settings; "
              "print(json.dumps(settings.OTP_REQUIRED_ROLES))")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        cwd=settings.BASE_DIR, check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "oms.settings", "SECRET_KEY": "x" * 50,
             **environment})
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_otp_required_false_switches_the_second_factor_off_in_debug_only():
    assert _required_roles_with(DEBUG="true") == [ADMIN, ACCOUNTING]
    assert _required_roles_with(DEBUG="true", OTP_REQUIRED="false") == []
    assert _required_roles_with(DEBUG="false", OTP_REQUIRED="false") == [ADMIN, ACCOUNTING]


def test_the_admin_never_shows_a_users_secret(client_for, make_user):
    admin = client_for("Admin")
    confirmed_device_of(admin.user)
    other = TOTPDevice.objects.create(user=make_user("Accounting"), name="phone", confirmed=True)
    device = TOTPDevice.objects.get(user=admin.user)
    admin.post(reverse("otp_verify"), {"token": code_for(device)})

    page = admin.get(reverse("admin:otp_totp_totpdevice_change", args=[other.pk]))
    assert page.status_code == 200
    assert other.key not in page.content.decode()
