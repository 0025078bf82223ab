"""The order page of a partly shipped order, in Chromium: what shipped, what
still waits, and the one action that cancels a line's backordered rest."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from fulfillment import services
from orders.models import Order
from tests.e2e.test_roles_navigation import log_in
from tests.factories.fulfillment import shelved_product
from tests.factories.inventory import WarehouseFactory
from tests.fulfillment.test_partial_shipments import _order, _pack_and_ship, _pick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_partly_shipped_order_shows_what_follows_and_cancels_the_rest(
        page: Page, live_server, make_user, pytestconfig, mailoutbox):
    main = WarehouseFactory(code="MAIN")
    mug = shelved_product(main, 2, bin_code="A-1", sku="MUG-BLUE", unit_price=Decimal("12.00"))
    teapot = shelved_product(main, 1, bin_code="A-2", sku="TEAPOT", unit_price=Decimal("30.00"))
    order = _order([(mug, 2), (teapot, 3)])
    _pick(order, main)
    _pack_and_ship(order, main, "TRK-PART-1")
    assert services  # the warehouse flow above went through the services
    user = make_user("Manager")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, user.username)
    page.goto(f"{live_server.url}/orders/{order.pk}/")

    expect(page.get_by_text("2 shipped")).to_be_visible()
    expect(page.get_by_text("2 backordered")).to_be_visible()
    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "order-partly-shipped.png"), full_page=True)

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel backordered rest").click()
    expect(page.get_by_text("Backordered rest cancelled.")).to_be_visible()
    expect(page.get_by_text("2 cancelled")).to_be_visible()
    page.screenshot(path=str(folder / "order-rest-cancelled.png"), full_page=True)
    order.refresh_from_db()
    assert order.lines.get(sku="TEAPOT").cancelled_quantity == 2
    assert Order.objects.get(pk=order.pk).total_net == Decimal("54.00")
