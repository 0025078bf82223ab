"""Warehouse staff move stock between warehouses and count a shelf in Chromium;
Sales sees an order with a pre-order line. Screenshots of each page go to the
Playwright output folder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from inventory.models import StockLevel, StockMovement
from tests.e2e.test_roles_navigation import log_in, screenshot  # noqa: F401 - fixture
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.factories.orders import make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_transfer_then_count_a_shelf(page: Page, live_server, make_user, screenshot):  # noqa: F811
    paris, lyon = WarehouseFactory(code="PAR", name="Paris"), WarehouseFactory(code="LYO",
                                                                                name="Lyon")
    lamp = ProductFactory(sku="LAMP-LED-01", name="LED desk lamp")
    mouse = ProductFactory(sku="MOUSE-WL", name="Wireless mouse")
    stock(lamp, paris, 20)
    stock(mouse, lyon, 12)
    user = make_user("Warehouse")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, user.username)

    page.get_by_role("link", name="Transfer stock").first.click()
    page.get_by_label("Product SKU").fill("LAMP-LED-01")
    page.get_by_label("From warehouse").select_option(label="PAR Paris")
    page.get_by_label("To warehouse").select_option(label="PAR Paris")
    page.get_by_label("Quantity").fill("5")
    page.get_by_role("button", name="Transfer").click()
    expect(page.get_by_text("Choose a warehouse other than the one the stock leaves.",
                            exact=True)).to_be_visible()
    page.get_by_label("To warehouse").select_option(label="LYO Lyon")
    page.get_by_role("button", name="Transfer").click()
    expect(page.get_by_text("moved 5 × LAMP-LED-01 from PAR to LYO")).to_be_visible()
    screenshot("stock-transfer")

    page.get_by_role("link", name="Stock counts").first.click()
    page.get_by_label("Warehouse").select_option(label="LYO Lyon")
    page.get_by_role("button", name="Start a count").click()
    scan = page.get_by_label("Scan or type SKU")
    for sku, quantity in (("LAMP-LED-01", "4"), ("MOUSE-WL", "13")):
        scan.fill(sku)
        page.get_by_label("Units found").fill(quantity)
        scan.press("Enter")
        expect(page.locator("#count-sheet").get_by_role("cell", name=sku)).to_be_visible()
    expect(page.locator("#count-sheet").get_by_text("2 units of difference")).to_be_visible()
    screenshot("stock-count")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Confirm count").click()
    expect(page.get_by_text("confirmed; the variances are in the stock ledger")).to_be_visible()
    assert dict(StockLevel.objects.filter(warehouse=lyon).values_list(
        "product__sku", "on_hand")) == {"LAMP-LED-01": 4, "MOUSE-WL": 13}
    assert sorted(StockMovement.objects.filter(kind="count").values_list("quantity", flat=True)
                  ) == [-1, 1]
    screenshot("stock-count-confirmed")


def test_order_with_a_preorder_line(page: Page, live_server, make_user, screenshot):  # noqa: F811
    release = timezone.localdate() + timedelta(days=21)
    chair = ProductFactory(sku="CHAIR-ERGO-V2", name="Ergonomic office chair, second edition",
                           available_from=release)
    lamp = ProductFactory(sku="LAMP-LED-01", name="LED desk lamp")
    stock(lamp, WarehouseFactory(code="PAR"), 5)
    order = make_order(lines=[(chair, 1), (lamp, 1)])
    user = make_user("Sales")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, user.username)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(page.get_by_text("pre-order, available from")).to_be_visible()
    screenshot("order-preorder-line")
