"""Customer service changes a reserved order on the phone (adds a line,
changes the delivery address) on the edit screen, in Chromium; then the
warehouse picks the changed order."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from fulfillment.models import PickListLine
from orders.models import EventKind, Order
from tests.e2e.test_roles_navigation import log_in
from tests.factories.customers import CustomerFactory
from tests.factories.fulfillment import reserved_order, shelved_product
from tests.factories.inventory import WarehouseFactory
from tests.inventory.test_ledger import assert_ledger_holds

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pick_on_screen(page: Page, live_server, order: Order,
                   picks: tuple[tuple[str, str], ...]) -> None:
    """The warehouse puts the order on a pick list and scans each (SKU, units)."""
    page.goto(f"{live_server.url}/fulfillment/pick/")
    page.locator(f"input[name=order][value='{order.pk}']").check()
    page.get_by_role("button", name="Create pick list").click()
    page.wait_for_url(re.compile(r"/fulfillment/pick-lists/\d+/$"))
    for sku, quantity in picks:
        page.fill("#scan-sku", sku)
        page.fill("#scan-qty", quantity)
        page.keyboard.press("Enter")
        expect(page.locator("#pick-panel")).to_contain_text(f"{quantity} x {sku}")


def test_customer_service_changes_an_order_by_phone_then_the_warehouse_picks_it(
        page: Page, live_server, make_user, mailoutbox, pytestconfig):
    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    main = WarehouseFactory(code="MAIN")
    lamp = shelved_product(main, 10, bin_code="A-01-1", sku="LAMP-1", name="Desk lamp",
                           unit_price=Decimal("40.00"))
    bulb = shelved_product(main, 10, bin_code="A-02-1", sku="BULB-1", name="LED bulb",
                           unit_price=Decimal("4.50"))
    order = reserved_order([(lamp, 1)], customer=CustomerFactory(name="Claire Dupont"))
    page.set_viewport_size({"width": 1280, "height": 900})

    log_in(page, live_server, make_user("Customer service", username="cora").username)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.get_by_role("link", name="Edit order").click()
    page.wait_for_url(re.compile(rf"/orders/{order.pk}/edit/$"))
    page.fill("#new-sku-0", "BULB-1")
    page.fill("#new-quantity-0", "4")
    page.fill("#shipping_address-line1", "12 Rue des Lilas")
    page.locator("#shipping_address-line1").blur()
    effect = page.locator("#change-effect")
    expect(effect).to_contain_text("4 to reserve")
    expect(effect).to_contain_text("Shipping address")
    expect(effect).to_contain_text("€69.60")  # (40 + 4 x 4.50) + 20 %
    page.screenshot(path=str(folder / "order-change-edit-screen.png"), full_page=True)

    page.get_by_role("button", name="Save the change").click()
    page.wait_for_url(re.compile(rf"/orders/{order.pk}/$"))
    expect(page.get_by_text("changed; the customer is told")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Order changed: added 4 x BULB-1; shipping address.")
    page.screenshot(path=str(folder / "order-change-order-page.png"), full_page=True)
    order = Order.objects.get(pk=order.pk)
    assert order.shipping_address["line1"] == "12 Rue des Lilas"
    assert order.events.get(kind=EventKind.CHANGED).actor.username == "cora"
    assert any("Added: 4 x LED bulb (BULB-1)" in mail.body for mail in mailoutbox)

    page.context.clear_cookies()  # the warehouse's own session
    log_in(page, live_server, make_user("Warehouse", username="walt").username)
    pick_on_screen(page, live_server, order, (("LAMP-1", "1"), ("BULB-1", "4")))
    page.screenshot(path=str(folder / "order-change-picked.png"), full_page=True)
    picked = dict(PickListLine.objects.filter(order=order).values_list("sku",
                                                                       "quantity_picked"))
    assert picked == {"LAMP-1": 1, "BULB-1": 4}
    assert_ledger_holds([lamp, bulb], [main])
