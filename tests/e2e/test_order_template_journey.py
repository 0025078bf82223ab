"""Saved order templates in real Chromium: a sales user saves an order as a
template, opens the customer card, places it in two clicks (Place, then
Place order on the confirmation at today's prices) and lands on the new
order."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from orders.models import Order, OrderTemplate, PriceListEntry
from tests.billing.invoicing_support import terms_customer
from tests.billing.test_browser import log_in
from tests.factories.customers import AddressFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR", Path(__file__).resolve().parents[2]
                                  / ".data" / "screenshots"))


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_sales_saves_a_template_and_places_it_from_the_card_in_two_clicks(
        page: Page, live_server, make_user):
    customer = terms_customer(name="Atelier Marchal")
    AddressFactory(customer=customer, city="Lyon")
    bolts = stocked_product(sku="BOLT-1", name="Steel bolt", unit_price=Decimal("2.00"))
    nuts = stocked_product(sku="NUT-1", name="Steel nut", unit_price=Decimal("0.50"))
    first = make_order(customer=customer, lines=[(bolts, 10), (nuts, 20)])
    make_user("Sales", username="desk")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "desk")

    # Save the order as a template from its page.
    page.goto(f"{live_server.url}/orders/{first.pk}/")
    page.get_by_text("Save as template", exact=True).first.click()
    page.get_by_label("Template name").fill("Weekly restock")
    page.get_by_role("button", name="Save as template").click()
    expect(page.get_by_role("heading", name="Saved templates")).to_be_visible()
    template = OrderTemplate.objects.get()
    # The price list moves on after the template was saved.
    PriceListEntry.objects.filter(product=bolts, price_list__currency="EUR").update(
        unit_price=Decimal("2.40"))

    # The customer card: the template with its Place button.
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator(f"li[data-template='{template.pk}']")
    expect(panel).to_contain_text("Weekly restock")
    expect(panel).to_contain_text("BOLT-1")
    _shot(page, "template-customer-card")

    # Click one: the confirmation at today's prices.
    panel.get_by_role("link", name="Place").click()
    expect(page.get_by_role("heading", name="Place “Weekly restock”")).to_be_visible()
    expect(page.locator("tr[data-line-sku='BOLT-1']")).to_contain_text("€2.40")
    _shot(page, "template-confirmation")

    # Click two: the order is placed and shown.
    page.get_by_role("button", name="Place order").click()
    new = Order.objects.exclude(pk=first.pk).get()
    expect(page.get_by_role("heading", name=new.number)).to_be_visible()
    expect(page.locator(".flash.success").first).to_contain_text(f"Order {new.number} placed")
    assert [(line.sku, line.quantity, line.unit_price)
            for line in new.lines.order_by("position")] == [
        ("BOLT-1", 10, Decimal("2.40")), ("NUT-1", 20, Decimal("0.50"))]
    _shot(page, "template-new-order")
