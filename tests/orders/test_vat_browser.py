"""The order page states the order's VAT decision: its treatment, the
countries, the buyer's VAT id and the legal mention."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories.customers import CustomerFactory, address_data
from tests.factories.orders import make_order, stocked_product
from tests.orders.test_detail_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_order_page_shows_the_reverse_charge_decision(page: Page, live_server, make_user,
                                                      pytestconfig):
    customer = CustomerFactory(kind="company", name="Brussels Trading SA",
                               vat_id="BE0123456749")
    order = make_order(customer=customer, shipping_address=address_data(
        name=customer.name, city="Bruxelles", postal_code="1000", country="BE"))
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, live_server, make_user("Manager").username)
    page.goto(f"{live_server.url}/orders/{order.pk}/")

    vat = page.get_by_test_id("vat-decision")
    expect(vat).to_contain_text("Intra-community supply, reverse charge")
    expect(vat).to_contain_text("FR → BE")
    expect(vat).to_contain_text("BE0123456749")
    expect(vat).to_contain_text("Art. 196 of Council Directive 2006/112/EC")
    expect(page.locator("tfoot")).to_contain_text("€0.00")

    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "order-detail-vat.png"), full_page=True)


def test_entry_page_live_totals_follow_the_vat_of_a_new_foreign_company(
        page: Page, live_server, make_user, pytestconfig):
    stocked_product(sku="LAMP-1", name="Desk lamp", unit_price=Decimal("39.90"))
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, live_server, make_user("Sales").username)
    page.goto(f"{live_server.url}/orders/entry/")
    page.locator('[name="customer.kind"]').select_option("company")
    page.get_by_label("VAT id").fill("BE0123456749")
    page.locator('[name="shipping_address.country"]').fill("BE")
    page.locator("#product-search").fill("LAMP")
    page.locator('[data-add-sku="LAMP-1"]').click()
    expect(page.locator("#lines")).to_contain_text("LAMP-1")
    totals = page.locator("#lines tfoot")
    expect(totals).to_contain_text("€39.90")
    expect(totals.locator("[data-total=tax]")).to_have_text("€0.00")  # reverse charge

    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "order-entry-vat.png"), full_page=True)
