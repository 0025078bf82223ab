# ruff: noqa: F811  (the screenshot fixture imported from test_roles_navigation)
"""In Chromium: a manager creates a discount code on the back-office page; a
sales user enters an order with a line discount, an order discount and the
code, sees the live totals take each of them and the shipping charge, places
it, and the placed order shows the same totals; the used code's terms are
then fixed on its form.

Screenshots (the code list and forms, the entry page with its totals, the
placed order) go to the Playwright output folder (`--output`)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from orders.models import DiscountCode, Order, ShippingRate
from tests.billing.test_browser import log_in
from tests.browser import change
from tests.e2e.test_roles_navigation import screenshot  # noqa: F401 (a fixture)
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _amount(page: Page, kind: str) -> str:
    return page.locator(f"[data-total='{kind}']").get_attribute("data-amount") or ""


def test_a_code_made_by_a_manager_prices_an_order_the_same_live_and_placed(
        page: Page, live_server, make_user, screenshot):
    warehouse = WarehouseFactory(code="LYO", name="Lyon")
    mug = ProductFactory(sku="MUG-1", name="Blue mug", unit_price=Decimal("9.99"),
                         tax_rate=Decimal("20.00"))
    tea = ProductFactory(sku="TEA-1", name="Green tea", unit_price=Decimal("4.55"),
                         tax_rate=Decimal("5.50"))
    stock(mug, warehouse, 20)
    stock(tea, warehouse, 20)
    ShippingRate.objects.create(currency="EUR", country="FR", price=Decimal("6.90"),
                                label="Parcel")
    manager = make_user("Manager")
    sales = make_user("Sales")
    page.set_viewport_size({"width": 1280, "height": 900})

    log_in(page, live_server, manager.username)
    page.locator("[data-nav='orders:discount_codes']").click()
    page.get_by_role("link", name="New discount code").click()
    page.locator("#id_code").fill("SPRING10")
    page.locator("#id_description").fill("Spring campaign")
    page.locator("#id_kind").select_option("percent")
    page.locator("#id_value").fill("150")
    page.locator("#id_currency").select_option("EUR")
    page.get_by_role("button", name="Save discount code").click()
    expect(page.locator("#id_value_error")).to_contain_text("A percentage is at most 100.")
    assert not DiscountCode.objects.exists()
    screenshot("discount-code-form-error")
    page.locator("#id_value").fill("10")
    page.locator("#id_max_uses").fill("50")
    page.get_by_role("button", name="Save discount code").click()
    row = page.locator("[data-code='SPRING10']")
    expect(row).to_contain_text("10 % off")
    expect(row).to_have_attribute("data-state", "active")
    expect(row.get_by_role("button", name="Deactivate")).to_be_visible()
    screenshot("discount-code-list")
    page.context.clear_cookies()

    log_in(page, live_server, sales.username)
    page.goto(f"{live_server.url}/orders/entry/")
    page.fill("input[name='customer.name']", "Grace Hopper")
    page.fill("input[name='customer.email']", "grace@example.com")
    page.fill("input[name='shipping_address.name']", "Grace Hopper")
    page.fill("input[name='shipping_address.line1']", "1 Rue de Rivoli")
    page.fill("input[name='shipping_address.postal_code']", "75001")
    page.fill("input[name='shipping_address.city']", "Paris")
    change(page, "input[name='shipping_address.country']", "FR")
    page.select_option("select[name='payment.method']", "bank_transfer")
    for sku in ("MUG-1", "TEA-1"):
        page.fill("#product-search", sku)
        page.locator(f"[data-add-sku='{sku}']").click()
        expect(page.locator(f"[data-line-sku='{sku}']")).to_be_visible()
    change(page, "#qty-0", "2")
    expect(page.locator("[data-line-sku='MUG-1']")).to_have_attribute("data-quantity", "2")
    change(page, "#qty-1", "3")
    expect(page.locator("[data-line-sku='TEA-1']")).to_have_attribute("data-quantity", "3")
    change(page, "#discount-0", "10%")
    expect(page.locator("[data-line-discount]")).to_have_attribute("data-line-discount", "2.00")
    expect(page.locator("[data-total='shipping']")).to_have_attribute("data-amount", "6.90")

    change(page, "#id_discount_code", "NOSUCH")
    expect(page.locator("#live-error-discount_code")).to_contain_text("Unknown discount code.")
    change(page, "#id_discount", "5%")
    expect(page.locator("[data-total='order_discount']")).to_have_attribute("data-amount",
                                                                          "1.58")
    change(page, "#id_discount_code", "spring10")
    # goods 17.98 + 13.65 = 31.63, 5 % = 1.58, the code 10 % of 30.05 = 3.01, shipping 6.90
    expect(page.locator("[data-total='code_discount']")).to_have_attribute("data-amount",
                                                                         "3.01")
    expect(page.locator("#live-error-discount_code")).to_be_empty()
    expect(page.locator("[data-total='net']")).to_have_attribute("data-amount", "33.94")
    shown = {kind: _amount(page, kind) for kind in ("net", "tax", "gross")}
    screenshot("entry-totals")

    page.click("button[name=action][value=place]")
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get()
    assert shown == {"net": str(order.total_net), "tax": str(order.total_tax),
                     "gross": str(order.total_gross)}
    assert (order.discount_amount, order.code_discount, order.shipping_net) == (
        Decimal("1.58"), Decimal("3.01"), Decimal("6.90"))
    totals = page.locator("tfoot")
    expect(totals).to_contain_text(f"€{order.total_gross}")
    expect(totals).to_contain_text("code SPRING10")
    expect(page.locator("[data-shipping]")).to_have_attribute("data-shipping", "6.90")
    screenshot("order-detail-totals")

    # Used now: the manager may end or limit the code, not change what it gives.
    page.context.clear_cookies()
    log_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/orders/discount-codes/")
    expect(page.locator("[data-code='SPRING10']")).to_have_attribute("data-uses", "1")
    page.locator("[data-code='SPRING10']").get_by_role("link", name="Edit").click()
    expect(page.locator("#used-note")).to_be_visible()
    expect(page.locator("#id_value")).to_be_disabled()
    page.locator("#id_max_uses").fill("60")
    screenshot("discount-code-used-form")
    page.get_by_role("button", name="Save discount code").click()
    expect(page.locator("[data-code='SPRING10']")).to_contain_text("1 of 60")
