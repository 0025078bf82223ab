"""Customer service answers "where is my parcel?" from the search box in
Chromium: types a tracking number, picks the result with the keyboard, and
opens an order by typing its whole number."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from fulfillment import services as fulfillment_services
from fulfillment.inputs import Handover
from tests.e2e.test_roles_navigation import log_in, screenshot  # noqa: F401  (fixture)
from tests.factories.customers import CustomerFactory
from tests.factories.fulfillment import CarrierServiceFactory, packed_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_service_finds_a_parcel_by_its_tracking_number(page: Page, live_server,
                                                                make_user, screenshot):  # noqa: F811
    customer = CustomerFactory(name="Hélène Marchal")
    order, shipment = packed_order(customer=customer)
    fulfillment_services.ship(shipment_id=shipment.pk, actor=None, data=Handover(
        carrier_service=CarrierServiceFactory(), tracking_number="1Z999AA10123"))
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, make_user("Customer service").username)

    page.keyboard.press("/")  # the shortcut focuses the search box
    box = page.get_by_role("searchbox", name=re.compile("Search orders"))
    expect(box).to_be_focused()
    box.type("1z999aa")
    box.press_sequentially("10123")
    popup = page.locator("#topbar-search-popup")
    expect(popup.get_by_role("heading", name="Shipments")).to_be_visible()
    expect(popup.get_by_role("link", name=re.compile("1Z999AA10123"))).to_be_visible()
    screenshot("search-tracking-number")
    box.press("ArrowDown")
    expect(popup.get_by_role("link").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/fulfillment/shipments/{shipment.pk}/$"))
    expect(page.get_by_text(order.number).first).to_be_visible()

    # A whole order number, submitted, opens the order.
    box = page.get_by_role("searchbox", name=re.compile("Search orders"))
    box.fill(order.number.lower())
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/$"))
    expect(page.get_by_text("Hélène Marchal").first).to_be_visible()
