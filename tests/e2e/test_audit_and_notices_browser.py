"""A manager follows web orders: the bell shows the new one, the notices
page lists it, the notice settings page shows the rule; the audit page
shows who changed a customer's credit limit and an order's cancellation. Screenshots
go to /tmp/audit-*.png."""

from __future__ import annotations

import tempfile
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from customers.services import update_customer
from orders.notices import NoticeRule
from orders.services import cancel_order
from tests.conftest import PASSWORD
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order

SHOTS = tempfile.gettempdir() + "/"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in_as(page: Page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_a_manager_sees_the_bell_the_notices_and_the_audit(page: Page, live_server, make_user):
    manager = make_user("Manager", username="mara", first_name="Mara", last_name="Jensen")
    accounting = make_user("Accounting", username="ali", first_name="Ali", last_name="Berg")
    NoticeRule.objects.create(user=manager, channels=["web"])
    NoticeRule.objects.create(user=manager, min_total=Decimal("1000.00"), currency="EUR")
    customer = CustomerFactory(name="Acme Trading", credit_limit=Decimal("1000.00"))
    update_customer(customer=customer, actor=accounting, credit_limit="2500",
                    standing="trusted")
    order = make_order(channel="web", customer=customer)
    make_order(channel="web")
    cancel_order(order_id=order.pk, actor=manager, reason="customer called")

    log_in_as(page, live_server, "mara")
    expect(page.locator(".bell-count")).to_have_text("2")
    page.click(".bell summary")
    expect(page.locator("#bell-latest")).to_contain_text(order.number)
    page.screenshot(path=SHOTS + "audit-bell.png")

    page.goto(f"{live_server.url}/notices/")
    expect(page.locator("main")).to_contain_text(order.number)
    page.screenshot(path=SHOTS + "audit-notices.png", full_page=True)
    page.click("main button:has-text('Mark all read')")
    expect(page.locator(".bell-count")).to_have_count(0)

    page.goto(f"{live_server.url}/orders/notices/")
    expect(page.locator("main")).to_contain_text("Web shop")
    page.screenshot(path=SHOTS + "audit-notice-settings.png", full_page=True)

    page.goto(f"{live_server.url}/audit/")
    table = page.locator("table.audit")
    expect(table).to_contain_text("Acme Trading")
    expect(table).to_contain_text("Ali Berg")
    expect(table).to_contain_text("2,500.00")
    expect(table).to_contain_text("Cancelled")
    page.screenshot(path=SHOTS + "audit-audit.png", full_page=True)
    page.click(f"table.audit a:has-text('{order.number}')")
    expect(page).to_have_url(f"{live_server.url}/orders/{order.pk}/")

    page.goto(f"{live_server.url}/audit/?date_from=2026-02-31&actor=nobody")
    expect(page.locator("main")).to_contain_text("No such person")
    page.screenshot(path=SHOTS + "audit-audit-bad-filter.png", full_page=True)
