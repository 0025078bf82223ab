"""The order detail in Chromium: actions swap the panel without a reload,
and a stale page gets the 409 message in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from orders.models import Order, OrderStatus
from tests.conftest import PASSWORD
from tests.factories.orders import make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_manager_holds_then_approves_and_a_stale_tab_gets_409(page: Page, live_server,
                                                               make_user, pytestconfig):
    manager = make_user("Manager")
    order = make_order()
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, live_server, manager.username)
    url = f"{live_server.url}/orders/{order.pk}/"
    page.goto(url)
    page.evaluate("window.loadedOnce = true")  # survives only if nothing reloads

    page.locator("summary", has_text="Put on hold").click()
    page.locator("#hold-reason-code").select_option("credit_limit")
    page.get_by_role("button", name="Put on hold").click()
    expect(page.get_by_text("Order put on hold.")).to_be_visible()
    expect(page.locator("#order-panel h1 .badge")).to_have_text("On hold")

    stale = page.context.new_page()
    stale.goto(url)

    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Order approved.")).to_be_visible()
    expect(page.locator("#order-panel h1 .badge")).to_have_text("Reserved")
    expect(page.locator(".timeline")).to_contain_text("On hold → Reserved")
    assert page.evaluate("window.loadedOnce") is True

    stale.get_by_role("button", name="Approve").click()
    expect(stale.get_by_role("alert")).to_contain_text("cannot be approved")
    expect(stale.locator("#order-panel h1 .badge")).to_have_text("Reserved")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED

    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "order-detail-reserved.png"), full_page=True)
    page.goto(f"{live_server.url}/orders/")
    page.screenshot(path=str(folder / "order-list.png"), full_page=True)
    page.goto(f"{live_server.url}/customers/{order.customer_id}/")
    page.screenshot(path=str(folder / "customer-card.png"), full_page=True)
