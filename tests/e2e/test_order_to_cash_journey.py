"""The whole order-to-cash journey in Chromium, with four roles taking turns:

1. Sales enters an order for a trusted customer on net terms (order entry
   page); billing approves it, the stock is firmly reserved.
2. Warehouse creates a pick list, scans the SKU, finishes picking, packs the
   parcel and ships it with a carrier and a tracking number; billing issues
   the invoice on shipment and renders its PDF.
3. Accounting opens the invoice, downloads its PDF (the text is checked with
   pypdf) and records the payment; the order becomes paid.
4. The Manager sees the order on the manager dashboard: placed today,
   revenue, paid, and lead times from placement to shipment and to payment.

Outbox tasks run in-process (eager), so every side effect happens as in
production, right after each commit. Screenshots of every step go to the
Playwright output folder (`--output`, default test-results/).
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from billing.models import Invoice
from orders.models import EventKind, Order
from tests.browser import change
from tests.conftest import PASSWORD
from tests.factories.customers import AddressFactory, CustomerFactory
from tests.factories.fulfillment import CarrierFactory, CarrierServiceFactory
from tests.factories.inventory import BinLocationFactory, ProductFactory, WarehouseFactory, stock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shot(pytestconfig, page: Page):
    folder = Path(pytestconfig.getoption("--output")).absolute()

    def take(name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"order-to-cash-{name}.png"), full_page=True)

    return take


def log_in_as(page: Page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_sales_warehouse_accounting_and_manager_take_an_order_to_cash(
        page: Page, live_server, make_user, shot):
    page.set_viewport_size({"width": 1280, "height": 900})
    warehouse = WarehouseFactory(code="LYO", name="Lyon")
    lamp = ProductFactory(sku="LAMP-1", name="Desk lamp", unit_price=Decimal("40.00"),
                          tax_rate=Decimal("20.00"), weight_kg=Decimal("1.200"))
    stock(lamp, warehouse, 10)
    BinLocationFactory(product=lamp, warehouse=warehouse, code="A-01-1")
    express = CarrierServiceFactory(carrier=CarrierFactory(code="COLI", name="Colissimo"),
                                    name="Express", price=Decimal("9.90"), transit_days=1)
    customer = CustomerFactory(name="Atelier Dupont", email="compta@dupont.example",
                               kind="company", standing="trusted",
                               payment_preference="net_terms", payment_terms_days=30,
                               credit_limit=Decimal("10000.00"))
    AddressFactory(customer=customer, kind="shipping", name="Atelier Dupont",
                   line1="3 Quai Saint-Vincent", postal_code="69001", city="Lyon",
                   country="FR")
    for role, username in [("Sales", "sally"), ("Warehouse", "walt"),
                           ("Accounting", "anna"), ("Manager", "manny")]:
        make_user(role, username=username)

    # --- 1. Sales enters the order ------------------------------------------------
    log_in_as(page, live_server, "sally")
    page.goto(f"{live_server.url}/orders/entry/")
    page.fill("#customer-search", "Dupont")
    page.locator(f"[data-customer='{customer.pk}']").click()
    expect(page.locator(f"[data-selected-customer='{customer.pk}']")).to_be_visible()
    expect(page.locator("input[name='shipping_address.city']")).to_have_value("Lyon")
    expect(page.locator("select[name='payment.method']")).to_have_value("net_terms")
    page.fill("#product-search", "lamp")
    page.locator("[data-add-sku='LAMP-1']").click()
    expect(page.locator("[data-line-sku='LAMP-1']")).to_be_visible()
    change(page, "#qty-0", "2")
    expect(page.locator("[data-total='net']")).to_have_attribute("data-amount", "80.00")
    shot("1-sales-entry")
    page.click("button[name=action][value=place]")
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get()
    expect(page.locator("main")).to_contain_text(order.number)
    expect(page.locator("main")).to_contain_text("Reserved")  # trusted, within its limit
    shot("1-sales-order-reserved")

    # --- 2. Warehouse picks, packs and ships -----------------------------------------
    log_in_as(page, live_server, "walt")
    page.goto(f"{live_server.url}/fulfillment/pick/")
    page.locator(f"input[name=order][value='{order.pk}']").check()
    shot("2-warehouse-to-pick")
    page.get_by_role("button", name="Create pick list").click()
    page.wait_for_url(re.compile(r"/fulfillment/pick-lists/\d+/$"))
    expect(page.locator("#pick-panel")).to_contain_text("A-01-1")
    page.fill("#scan-sku", "LAMP-1")
    page.fill("#scan-qty", "2")
    page.keyboard.press("Enter")  # a scanner ends with Enter
    expect(page.locator("#pick-panel")).to_contain_text("2 x LAMP-1")
    shot("2-warehouse-picked")
    page.get_by_role("button", name="Finish picking").click()
    page.wait_for_url(re.compile(r"/fulfillment/pack/"))
    page.locator(f"a[href='/fulfillment/pack/{warehouse.pk}/{order.pk}/']").click()
    page.wait_for_url(re.compile(r"/fulfillment/pack/\d+/\d+/$"))
    page.fill("#pack-weight", "2.6")
    shot("2-warehouse-pack")
    page.get_by_role("button", name="Packed").click()
    page.wait_for_url(re.compile(r"/fulfillment/shipments/\d+/$"))
    page.select_option("#ship-service", str(express.pk))
    page.fill("#ship-tracking", "6A12345678901")
    page.locator("form[action$='/ship/'] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("6A12345678901")
    shot("2-warehouse-shipped")
    order.refresh_from_db()
    assert order.status == "invoiced", order.status  # billing invoiced it on shipment
    invoice = Invoice.objects.get(order=order)
    assert invoice.pdf_path

    # --- 3. Accounting opens the invoice PDF and records the payment -----------------
    log_in_as(page, live_server, "anna")
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.get_by_role("link", name=invoice.number).click()
    page.wait_for_url(re.compile(r"/billing/invoices/\d+/$"))
    expect(page.locator("main")).to_contain_text("96.00")
    shot("3-accounting-invoice")
    pdf_url = page.locator("[data-invoice-pdf]").first.get_attribute("href")
    pdf = page.context.request.get(f"{live_server.url}{pdf_url}")  # the browser's session
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert invoice.number in text and "Desk lamp" in text and order.number in text
    page.fill("input[name=amount]", "96.00")
    page.select_option("select[name=method]", "bank_transfer")
    page.fill("input[name=received_on]", timezone.localdate().isoformat())
    page.fill("input[name=reference]", "VIR DUPONT 0042")
    page.locator("[data-action=record-payment]").click()
    expect(page.locator("main")).to_contain_text("Paid")
    shot("3-accounting-paid")
    order.refresh_from_db()
    assert order.status == "paid"
    emails = set(order.events.filter(kind=EventKind.EMAIL).values_list("reason", flat=True))
    assert {"received", "confirmed", "shipped", "invoice", "payment_received"} <= emails

    # --- 4. The Manager sees it on the dashboard --------------------------------------
    log_in_as(page, live_server, "manny")
    page.get_by_role("link", name="Manager dashboard").first.click()
    page.wait_for_url(f"{live_server.url}/reports/")
    expect(page.locator("[data-kpi=orders-today]")).to_have_text("1")
    expect(page.locator("#report-revenue")).to_contain_text("96.00")
    expect(page.locator("tr[data-status=paid]")).to_contain_text("1")
    expect(page.locator("[data-lead=shipped]")).to_contain_text("over 1 order")
    expect(page.locator("[data-lead=paid]")).to_contain_text("over 1 order")
    shot("4-manager-dashboard")
