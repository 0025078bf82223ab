"""The approval queue and the card page in real Chromium (htmx, keyboard)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from billing import services
from oms.lib.dates import format_deadline
from orders.models import Order
from tests.conftest import PASSWORD
from tests.factories.billing import APPROVE, DECLINE, bank_transfer, card
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_manager_approves_and_rejects_in_the_queue_without_reloading(page: Page, live_server,
                                                                      make_user):
    first = make_order(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    second = make_order(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    assert Order.objects.get(pk=first.pk).status == "on_hold"
    manager = make_user("Manager")
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, manager.username)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Approvals").click()
    expect(page.get_by_role("heading", name="Orders waiting for approval")).to_be_visible()
    page.evaluate("window.__same_page = true")

    row = page.locator(f"#order-{first.pk}")
    expect(row).to_contain_text("New customer needs approval")
    row.get_by_label("Reason").fill("known buyer")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(f"#order-{first.pk}")).to_contain_text("approved")
    expect(page.locator(f"#order-{first.pk}")).to_contain_text("Reserved")

    other = page.locator(f"#order-{second.pk}")
    other.get_by_role("button", name="Reject").click()  # no reason: refused
    expect(page.locator("#flash")).to_contain_text("reason")
    other.get_by_label("Reason").fill("duplicate order")
    other.get_by_role("button", name="Reject").click()
    expect(page.locator(f"#order-{second.pk}")).to_contain_text("Cancelled")

    assert page.evaluate("window.__same_page") is True  # htmx swapped rows, no reload
    assert Order.objects.get(pk=first.pk).status == "reserved"
    assert Order.objects.get(pk=second.pk).status == "cancelled"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_customer_re_enters_a_card_through_the_signed_link(page: Page, live_server):
    order = make_order(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    assert Order.objects.get(pk=order.pk).hold_reason == "payment_declined"
    token = services.card_link_token(order_id=order.pk)
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(f"{live_server.url}/billing/pay/{token}/")
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry (MM/YY)").fill("12/39")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("alert")).to_contain_text("declined")
    expect(page.get_by_label("Card number")).to_have_value("")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Security code").fill("123")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("was authorised")
    assert Order.objects.get(pk=order.pk).status == "reserved"


def test_queue_shows_each_orders_age_and_deadline_oldest_first(page: Page, live_server,
                                                                make_user, settings,
                                                                pytestconfig):
    settings.HOLD_REVIEW_ALERT_HOURS = 24
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=3), tick=False):
        review = make_order(customer=CustomerFactory(standing="new", name="Old Review"),
                            payment=card(APPROVE))
    with time_machine.travel(now - timedelta(hours=5), tick=False):
        transfer = make_order(customer=CustomerFactory(payment_terms_days=0, name="Transfer"),
                              payment=bank_transfer())
    declined = make_order(customer=CustomerFactory(name="Declined"), payment=card(DECLINE))
    transfer.refresh_from_db()
    assert transfer.hold_reason == "prepayment_missing"
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, make_user("Manager").username)
    page.goto(f"{live_server.url}/billing/approvals/")
    rows = page.locator("#queue tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(review.number)
    expect(rows.nth(0)).to_contain_text("3\xa0days")
    expect(rows.nth(0)).to_contain_text("Until decided")
    expect(rows.nth(1)).to_contain_text(transfer.number)
    with translation.override("en"):
        expect(rows.nth(1)).to_contain_text(format_deadline(transfer.hold_expires_at,
                                                            "SHORT_DATETIME_FORMAT"))
    expect(rows.nth(2)).to_contain_text(declined.number)
    # A review past the managers' alert threshold stands out.
    expect(rows.nth(0).locator(".badge.bad")).to_have_count(1)
    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "approval-queue-deadlines.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
