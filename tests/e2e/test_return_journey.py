"""A return in real Chromium: customer service opens a return of one unit
from the order page and approves it, the warehouse scans it in and restocks
it, accounting refunds it and sees the credit note."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from billing.models import CreditNote, Payment
from inventory.models import StockLevel, Warehouse
from orders.models import Return, ReturnStatus
from tests.billing.invoicing_support import reserved_order
from tests.billing.test_browser import log_in
from tests.factories.fulfillment import ship_reserved
from tests.factories.orders import stocked_product
from tests.inventory.test_ledger import assert_ledger_holds

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _switch_user(page: Page, live_server, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, live_server, username)


def test_a_unit_comes_back_is_restocked_and_refunded(page: Page, live_server, make_user):
    product = stocked_product(10, sku="MUG-RED", name="Red mug", unit_price=Decimal("10.00"),
                              tax_rate=Decimal("20.00"))
    warehouse = Warehouse.objects.get(code="MAIN")
    order = reserved_order(on_terms=False, lines=[(product, 2)])
    ship_reserved(order, warehouse)
    order.refresh_from_db()
    assert order.status == "paid", order.status
    make_user("Customer service", username="agent")
    make_user("Warehouse", username="goodsin")
    make_user("Accounting", username="accounts")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Customer service, on the phone with the customer.
    log_in(page, live_server, "agent")
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.get_by_role("link", name="Start a return").click()
    expect(page.get_by_role("heading", name="Start a return")).to_be_visible()
    page.get_by_label("Units of MUG-RED to return").fill("1")
    page.get_by_label("Reason", exact=True).select_option("damaged")
    page.get_by_label("The customer asked by").select_option("phone")
    _shot(page, "returns-start")
    page.get_by_role("button", name="Open the return").click()
    ret = Return.objects.get()
    expect(page.get_by_role("heading", name=f"Return {ret.number}")).to_contain_text("Requested")
    _shot(page, "returns-detail-requested")
    page.get_by_role("button", name="Approve and send the label").click()
    expect(page.locator("#return-panel .flash.success")).to_contain_text("Return approved")
    expect(page.get_by_role("heading", name=f"Return {ret.number}")).to_contain_text("Approved")
    label = page.request.get(f"{live_server.url}/orders/returns/{ret.pk}/label.pdf")
    assert label.ok and label.body().startswith(b"%PDF")
    assert any(ret.number in m.body and m.attachments for m in mail.outbox)
    page.goto(f"{live_server.url}/orders/returns/")
    expect(page.get_by_role("link", name=ret.number)).to_be_visible()
    _shot(page, "returns-list")

    # The warehouse scans the parcel in and restocks the unit.
    _switch_user(page, live_server, "goodsin")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Returns to receive").click()
    _shot(page, "returns-warehouse-list")
    page.get_by_role("link", name=ret.number).click()
    page.get_by_label("Scan or type SKU").fill("MUG-RED")
    page.get_by_label("Scan or type SKU").press("Enter")
    expect(page.locator("#return-receive-panel .flash.success")).to_contain_text(
        "1 x MUG-RED received.")
    _shot(page, "returns-receive")
    page.get_by_role("button", name="Everything is scanned: finish receiving").click()
    expect(page.get_by_role("heading", name=f"Inspect {ret.number}")).to_be_visible()
    page.get_by_role("spinbutton", name="Restock").fill("1")
    _shot(page, "returns-inspect")
    page.get_by_role("button", name="Save inspection").click()
    expect(page.get_by_text("Return inspected: accounting settles it now.")).to_be_visible()
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 9
    assert_ledger_holds([product], [warehouse])

    # Accounting refunds it and sees the credit note.
    _switch_user(page, live_server, "accounts")
    page.goto(f"{live_server.url}/orders/returns/{ret.pk}/")
    page.get_by_label("Refund (credit note)").check()
    _shot(page, "returns-detail-settle")
    page.get_by_role("button", name="Settle").click()
    expect(page.get_by_text(f"Return {ret.number} settled")).to_be_visible()
    note = CreditNote.objects.get()
    expect(page.locator("[data-credit-note]")).to_have_text(note.number)
    expect(page.get_by_role("heading", name=f"Return {ret.number}")).to_contain_text("Closed")
    _shot(page, "returns-detail-closed")
    href = page.locator("[data-credit-note]").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.CLOSED and note.total_gross == Decimal("12.00")
    assert Payment.objects.get(order=order).refunded_amount == Decimal("12.00")
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(page.locator("#returns-title")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text(f"Return {ret.number}: Closed.")
    _shot(page, "returns-order-page")
