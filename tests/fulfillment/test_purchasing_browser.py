"""Buying and goods-in in Chromium: the buyer turns the proposal into a
purchase order and sends it; the warehouse scans the goods in with Enter and
the waiting order gets its stock. Screenshots of each screen go to the
Playwright output folder (`--output`, default test-results/)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect

from inventory.models import PurchaseOrder
from orders.models import Order, OrderStatus
from tests.conftest import PASSWORD
from tests.factories.inventory import WarehouseFactory
from tests.factories.purchasing import SupplierProductFactory, backordered_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_buy_send_and_receive_in_the_browser(page: Page, live_server, make_user,
                                             pytestconfig):
    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    WarehouseFactory(code="MAIN", name="Main warehouse")
    offer = SupplierProductFactory(supplier__name="TechnoParts BV", supplier_sku="TP-ARM-2",
                                   product__sku="ARM-DUAL", product__name="Dual monitor arm",
                                   minimum_order_quantity=6, pack_size=6)
    promised = timezone.localdate() + timedelta(days=2)
    order = backordered_order(offer.product, 4, promised_delivery_date=promised)
    buyer, receiver = make_user("Buyer"), make_user("Warehouse")
    page.set_viewport_size({"width": 1280, "height": 800})

    _log_in(page, live_server, buyer.username)
    page.get_by_role("link", name="What to buy").first.click()
    expect(page.get_by_role("heading", name="What to buy")).to_be_visible()
    field = page.get_by_label("Quantity of ARM-DUAL")
    expect(field).to_have_value("6")
    page.screenshot(path=str(folder / "purchasing-what-to-buy.png"), full_page=True)
    page.get_by_role("button", name="Create purchase orders").click()
    expect(page.get_by_text("Purchase orders created as drafts")).to_be_visible()
    po = PurchaseOrder.objects.get()
    page.get_by_role("link", name=po.number).click()
    page.get_by_role("button", name="Send to the supplier").click()
    expect(page.get_by_text("Sent. The supplier gets the PDF by e-mail.")).to_be_visible()
    page.screenshot(path=str(folder / "purchasing-purchase-order.png"), full_page=True)
    # The waiting order shows when its stock comes; it arrives after the promise.
    expected = po.lines.get().expected_date
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(page.get_by_text(f"expected {expected:%d/%m/%Y}")).to_be_visible()
    page.screenshot(path=str(folder / "purchasing-order-expected-date.png"), full_page=True)
    page.get_by_role("link", name="Late orders").first.click()
    expect(page.get_by_role("link", name=order.number)).to_be_visible()
    expect(page.get_by_text("after the promised date")).to_be_visible()
    page.screenshot(path=str(folder / "purchasing-late-orders.png"), full_page=True)
    page.get_by_role("button", name="Log out").click()

    _log_in(page, live_server, receiver.username)
    page.goto(f"{live_server.url}/fulfillment/purchase-orders/{po.pk}/receive/")
    expect(page.locator("#scan-sku")).to_be_focused()
    page.keyboard.type("NOT-ON-PO")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("NOT-ON-PO")
    page.keyboard.type("TP-ARM-2")
    page.keyboard.press("Enter")
    expect(page.get_by_text("1 x ARM-DUAL received.")).to_be_visible()
    expect(page.locator("#scan-sku")).to_be_focused()
    page.locator("#scan-qty").fill("4")
    page.locator("#scan-sku").fill("ARM-DUAL")
    page.keyboard.press("Enter")
    expect(page.get_by_text("4 x ARM-DUAL received. 1 waiting order line got its units."
                            )).to_be_visible()
    page.screenshot(path=str(folder / "purchasing-receiving.png"), full_page=True)
    connection.close()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED
