"""In a real browser: Sales enters an order for a new customer with the htmx
searches, it lands on hold (new customer), a Manager approves it in the
approval queue and it is reserved."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Order
from tests.browser import change
from tests.conftest import PASSWORD
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_sales_enters_an_order_for_a_new_customer_and_a_manager_approves_it(
        page, live_server, make_user, monkeypatch):
    # tests/orders/conftest.py removes billing's approver; this test wants the real one.
    from billing.services import run_payment_approval
    from orders import payments

    monkeypatch.setattr(payments, "_approver", run_payment_approval)
    warehouse = WarehouseFactory(code="LYO", name="Lyon")
    mug = ProductFactory(sku="MUG-1", name="Blue mug", unit_price=Decimal("9.99"))
    stock(mug, warehouse, 20)
    make_user("Sales", username="sally")
    make_user("Manager", username="manny")

    login(page, live_server, "sally")
    page.goto(f"{live_server.url}/orders/entry/")
    page.fill("#customer-search", "nobody")
    expect(page.locator("#customer-results")).to_contain_text("No customer found")
    page.fill("input[name='customer.name']", "Grace Hopper")
    page.fill("input[name='customer.email']", "grace@example.com")
    page.fill("input[name='shipping_address.name']", "Grace Hopper")
    page.fill("input[name='shipping_address.line1']", "1 Navy Way")
    page.fill("input[name='shipping_address.postal_code']", "20001")
    page.fill("input[name='shipping_address.city']", "Washington")
    page.fill("input[name='shipping_address.country']", "US")
    page.select_option("select[name='payment.method']", "card")
    page.fill("input[name='payment.card_number']", "4242424242424242")

    page.fill("#product-search", "blue")
    page.locator("[data-add-sku='MUG-1']").click()
    expect(page.locator("[data-line-sku='MUG-1']")).to_be_visible()
    expect(page.locator("[data-line-sku='MUG-1']")).to_contain_text("LYO: 20")
    # Swapped-in fields take input at once: no settle delay for a fast scanner to fall into.
    assert page.evaluate("htmx.config.defaultSettleDelay") == 0
    change(page, "#qty-0", "3")
    expect(page.locator("[data-total='net']")).to_have_attribute("data-amount", "29.97")

    page.click("button[name=action][value=place]")
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get()
    assert order.customer.email == "grace@example.com"
    assert order.status == "on_hold" and order.hold_reason == "new_customer", order.hold_reason
    assert mug.stock_levels.get().reserved == 3

    page.context.clear_cookies()
    login(page, live_server, "manny")
    page.goto(f"{live_server.url}/billing/approvals/")
    row = page.locator(f"#order-{order.pk}")
    expect(row).to_contain_text(order.number)
    row.locator("input[name=reason]").fill("Known buyer")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("Reserved")
    order.refresh_from_db()
    assert order.status == "reserved"

    page.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(page.locator("main")).to_contain_text("Reserved")
    expect(page.locator(".timeline")).to_contain_text("Known buyer")
