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

from inventory.models import Product, Warehouse
from orders.inputs import TemplateName
from orders.models import Order, OrderTemplate, PriceListEntry
from orders.services import save_template_from_order
from tests.billing.invoicing_support import reserved_order, terms_customer
from tests.billing.test_browser import log_in
from tests.factories.customers import AddressFactory
from tests.factories.fulfillment import ship_reserved
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
    _shot(page, "template-order-page")
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

    # From the entry screen too: re-order, then keep those lines as a template.
    page.goto(f"{live_server.url}/orders/entry/?reorder={new.pk}")
    page.get_by_text("Save these lines as a template of the customer").click()
    page.get_by_label("Template name").fill("From entry")
    _shot(page, "template-entry")
    page.get_by_role("button", name="Save as template").click()
    expect(page.locator("li[data-template]")).to_have_count(2)
    expect(page.get_by_role("heading", name="Saved templates")).to_be_visible()
    assert OrderTemplate.objects.filter(name="From entry", customer=customer).exists()


def test_an_unsold_line_shows_as_an_error_and_the_order_cannot_be_placed(
        page: Page, live_server, make_user):
    customer = terms_customer(name="Atelier Marchal")
    AddressFactory(customer=customer, city="Lyon")
    product = stocked_product(10, sku="MUG-RED", name="Red mug", unit_price=Decimal("10.00"))
    shipped = reserved_order(customer=customer, lines=[(product, 2)])
    ship_reserved(shipped, Warehouse.objects.get(code="MAIN"))
    template = save_template_from_order(order_id=shipped.pk, actor=None,
                                        data=TemplateName.parse({"name": "Usual"}))
    Product.objects.filter(pk=shipped.lines.get().product_id).update(is_active=False)
    make_user("Sales", username="desk")
    make_user("Customer service", username="agent")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Customer service sees the parcel's order in the return picker.
    log_in(page, live_server, "agent")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.get_by_role("link", name="Start a return").first.click()
    picker = page.locator(".return-picker")
    expect(picker).to_contain_text(shipped.number)
    _shot(page, "template-card-customer-service")
    picker.get_by_role("link", name=shipped.number).click()
    expect(page.get_by_role("heading", name="Start a return")).to_be_visible()

    page.context.clear_cookies()
    log_in(page, live_server, "desk")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.locator(f"li[data-template='{template.pk}']").get_by_role("link", name="Place").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.locator("tr.has-error")).to_contain_text("no longer sold")
    expect(page.get_by_role("button", name="Place order")).to_be_disabled()
    _shot(page, "template-confirmation-refused")
    assert Order.objects.count() == 1

    # Back on the card, sales renames the template, then deletes it.
    page.get_by_role("link", name="Back to the customer").click()
    item = page.locator(f"li[data-template='{template.pk}']")
    item.get_by_text("Rename or delete").click()
    item.get_by_label("Name").fill("Old usual")
    item.get_by_role("button", name="Rename").click()
    expect(page.locator(f"li[data-template='{template.pk}']")).to_contain_text("Old usual")
    item = page.locator(f"li[data-template='{template.pk}']")
    item.get_by_text("Rename or delete").click()
    item.get_by_role("button", name="Delete template").click()
    expect(page.locator(".flash.success").first).to_contain_text("Template Old usual deleted")
    expect(page.locator("li[data-template]")).to_have_count(0)
    assert not OrderTemplate.objects.exists()
