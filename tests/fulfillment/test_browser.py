"""The pick list screen in Chromium, driven like a scanner: type the SKU,
Enter; the lines update in place and the focus is back on the SKU field."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from fulfillment import services
from fulfillment.models import PickListLine
from tests.conftest import PASSWORD
from tests.factories.fulfillment import reserved_order, shelved_product
from tests.factories.inventory import WarehouseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scanning_with_enter_updates_the_list_without_reload(page: Page, live_server,
                                                             make_user, pytestconfig):
    picker = make_user("Warehouse")
    main = WarehouseFactory(code="MAIN")
    product = shelved_product(main, 10, bin_code="A-01-1", sku="SCAN-42")
    order = reserved_order([(product, 2)])
    pick_list = services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk],
                                          actor=picker)
    page.set_viewport_size({"width": 1024, "height": 768})  # a warehouse tablet
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(picker.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/fulfillment/pick-lists/{pick_list.pk}/")
    page.evaluate("window.loadedOnce = true")

    expect(page.locator("#scan-sku")).to_be_focused()
    page.keyboard.type("SCAN-42")
    page.keyboard.press("Enter")
    expect(page.get_by_text("1 x SCAN-42 picked.")).to_be_visible()
    expect(page.locator("#pick-panel")).to_contain_text(f"{order.number} · 1/2")
    expect(page.locator("#scan-sku")).to_be_focused()

    page.keyboard.type("NOT-ON-LIST")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("NOT-ON-LIST")
    expect(page.locator("#scan-sku")).to_be_focused()

    page.keyboard.type("SCAN-42")
    page.keyboard.press("Enter")
    expect(page.locator("#pick-panel")).to_contain_text(f"{order.number} · 2/2")
    assert page.evaluate("window.loadedOnce") is True
    assert PickListLine.objects.get(pick_list=pick_list).status == "picked"

    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "pick-list-scanned.png"), full_page=True)
