"""An Accounting user logs in through the real form in Chromium, sets up the
authenticator (the QR code shows; the typed key gives the code), then on the
next log-in is asked for a code only."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from oms.lib.roles import ACCOUNTING, ADMIN
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_from_key(typed_key: str) -> str:
    secret = typed_key.replace(" ", "")
    secret += "=" * (-len(secret) % 8)
    return f"{totp(b32decode(secret)):06d}"


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/billing/receivables/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_accounting_user_sets_up_the_second_factor_then_confirms_it_each_session(
        page: Page, live_server, make_user, settings):
    settings.OTP_REQUIRED_ROLES = [ADMIN, ACCOUNTING]
    user = make_user("Accounting")

    log_in(page, live_server, user.username)
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    typed_key = page.get_by_test_id("otp-secret").inner_text()

    right = code_from_key(typed_key)
    page.get_by_label("Code from your authenticator app").fill(
        f"{(int(right) + 500000) % 1000000:06d}")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#id_token_error")).to_contain_text("This code is not right")

    page.wait_for_timeout(1100)  # django-otp waits a second after a wrong code
    page.get_by_label("Code from your authenticator app").fill(code_from_key(typed_key))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/billing/receivables/$"))

    page.get_by_role("button", name="Log out").click()
    # Half a minute later (a code is accepted once only: the next one).
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=True):
        log_in(page, live_server, user.username)
        expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
        page.get_by_label("Code from your authenticator app").fill(code_from_key(typed_key))
        page.get_by_role("button", name="Confirm").click()
        expect(page).to_have_url(re.compile(r"/billing/receivables/$"))
        expect(page.get_by_role("heading", level=1)).not_to_have_text("Confirm it is you")
