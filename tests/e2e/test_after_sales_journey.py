"""After sales in real Chromium, from the customer's e-mail link.

The full journey: customer service changes a reserved order by phone, the
warehouse picks it and it ships, the customer returns one unit from the
order's page, staff approve, the warehouse restocks it, accounting refunds
it and sees the credit note and the refund. And the customer's own: the
page from the e-mail, the invoice PDF, paying the open invoice, a return."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from billing.models import CreditNote, Invoice, InvoicePayment, Payment
from fulfillment import services as fulfillment_services
from fulfillment.inputs import Handover
from fulfillment.models import PickList
from inventory.models import StockLevel
from orders.models import Order, Return, ReturnChannel, ReturnStatus
from tests.billing.invoicing_support import reserved_order, terms_customer
from tests.e2e.test_order_change_journey import pick_on_screen
from tests.e2e.test_return_journey import _switch_user
from tests.factories.fulfillment import CarrierServiceFactory, shelved_product, ship_reserved
from tests.factories.inventory import WarehouseFactory
from tests.inventory.test_ledger import assert_ledger_holds

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-custpage")  # noqa: S108  screenshots to look at


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _link_in_latest_email(order: Order) -> str:
    """The order page's link of the newest e-mail about the order."""
    for message in reversed(mail.outbox):
        match = re.search(r"Follow your order: (\S+)", message.body)
        if order.number in message.subject and match:
            return match.group(1)
    raise AssertionError("no e-mail with the order's link")


def _customer_returns_one(page: Page, sku: str, reason: str) -> Return:
    page.get_by_label(f"Units of {sku} to return").fill("1")
    page.locator(f"tr:has([data-sku='{sku}']) select").select_option(reason)
    _shot(page, f"customer-return-form-{sku}")
    page.get_by_role("button", name="Request the return").click()
    expect(page.locator(".flash.success")).to_contain_text("requested")
    ret = Return.objects.get()
    returned = page.locator(f"[data-return='{ret.number}']")
    expect(returned).to_contain_text("Requested")
    expect(returned).to_contain_text("1 × ")
    expect(returned).to_contain_text("waits for our approval")
    return ret


@pytest.fixture
def site(settings, live_server, fresh_shared_cache):
    settings.SITE_URL = live_server.url
    return live_server


def test_a_phoned_change_ships_comes_back_through_the_page_and_is_refunded(
        page: Page, site, make_user):
    main = WarehouseFactory(code="MAIN")
    lamp = shelved_product(main, 10, bin_code="A-01-1", sku="LAMP-1", name="Desk lamp",
                           unit_price=Decimal("40.00"), tax_rate=Decimal("20.00"))
    bulb = shelved_product(main, 10, bin_code="A-02-1", sku="BULB-1", name="LED bulb",
                           unit_price=Decimal("4.50"), tax_rate=Decimal("20.00"))
    order = reserved_order(on_terms=False, lines=[(lamp, 1)])
    make_user("Customer service", username="cora")
    make_user("Warehouse", username="walt")
    make_user("Accounting", username="accounts")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Customer service, on the phone: a line more and a new address.
    _switch_user(page, site, "cora")
    page.goto(f"{site.url}/orders/{order.pk}/edit/")
    page.fill("#new-sku-0", "BULB-1")
    page.fill("#new-quantity-0", "4")
    page.fill("#shipping_address-line1", "12 Rue des Lilas")
    page.locator("#shipping_address-line1").blur()
    expect(page.locator("#change-effect")).to_contain_text("4 to reserve")
    page.get_by_role("button", name="Save the change").click()
    page.wait_for_url(re.compile(rf"/orders/{order.pk}/$"))
    expect(page.get_by_text("changed; the customer is told")).to_be_visible()

    # The warehouse picks it on its screen; packing and the handover follow.
    _switch_user(page, site, "walt")
    pick_on_screen(page, site, order, (("LAMP-1", "1"), ("BULB-1", "4")))
    fulfillment_services.complete_pick_list(pick_list_id=PickList.objects.get().pk, actor=None)
    shipment = fulfillment_services.pack(
        order_id=order.pk, warehouse_id=main.pk, actor=None,
        data=fulfillment_services.Packing.parse(package_type="box", weight="2.0"))
    fulfillment_services.ship(shipment_id=shipment.pk, actor=None, data=Handover(
        carrier_service=CarrierServiceFactory(), tracking_number="1ZAFTER0001"))
    order.refresh_from_db()
    assert order.status == "paid", order.status  # the card was captured at invoicing
    invoice = Invoice.objects.get(order=order)

    # The customer follows the link of the latest e-mail and returns a bulb.
    page.context.clear_cookies()
    page.goto(_link_in_latest_email(order))
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    expect(page.locator("body")).to_contain_text("1ZAFTER0001")
    ret = _customer_returns_one(page, "BULB-1", "defective")
    assert (ret.channel, ret.status) == (ReturnChannel.WEB, ReturnStatus.REQUESTED)
    _shot(page, "after-sales-customer-requested")

    # Customer service approves: the customer gets the instructions and label.
    _switch_user(page, site, "cora")
    page.goto(f"{site.url}/orders/returns/?status=requested")
    page.get_by_role("link", name=ret.number).click()
    page.get_by_role("button", name="Approve and send the label").click()
    expect(page.get_by_role("heading", name=f"Return {ret.number}")).to_contain_text("Approved")
    assert any(ret.number in m.body and m.attachments for m in mail.outbox)

    # The warehouse scans the bulb in and restocks it.
    _switch_user(page, site, "walt")
    page.goto(f"{site.url}/fulfillment/returns/")
    page.get_by_role("link", name=ret.number).click()
    page.get_by_label("Scan or type SKU").fill("BULB-1")
    page.get_by_label("Scan or type SKU").press("Enter")
    expect(page.locator("#return-receive-panel .flash.success")).to_contain_text(
        "1 x BULB-1 received.")
    page.get_by_role("button", name="Everything is scanned: finish receiving").click()
    page.get_by_role("spinbutton", name="Restock").fill("1")
    page.get_by_role("button", name="Save inspection").click()
    expect(page.get_by_text("Return inspected: accounting settles it now.")).to_be_visible()
    assert StockLevel.objects.get(product=bulb, warehouse=main).on_hand == 7
    assert_ledger_holds([lamp, bulb], [main])

    # Accounting refunds it, then sees the credit note and the refund on the invoice.
    _switch_user(page, site, "accounts")
    page.goto(f"{site.url}/orders/returns/{ret.pk}/")
    page.get_by_label("Refund (credit note)").check()
    page.get_by_role("button", name="Settle").click()
    expect(page.get_by_text(f"Return {ret.number} settled")).to_be_visible()
    note = CreditNote.objects.get()
    assert note.total_gross == Decimal("5.40")  # 4.50 + 20 %
    assert Payment.objects.get(order=order, status__in=["captured", "refunded"]
                               ).refunded_amount == Decimal("5.40")
    page.goto(f"{site.url}/billing/invoices/{invoice.pk}/")
    expect(page.locator("[data-credit-note-pdf]")).to_have_text(note.number)
    expect(page.locator("main")).to_contain_text("€5.40")
    # ... and the money paid back to the card.
    expect(page.locator("[data-refund]")).to_contain_text("€5.40")
    _shot(page, "after-sales-invoice-credit-note")

    # The customer's page shows the return closed and the credit note.
    page.context.clear_cookies()
    page.goto(_link_in_latest_email(order))
    expect(page.locator(f"[data-return='{ret.number}']")).to_contain_text("Closed")
    expect(page.get_by_role("link", name=f"Credit note {note.number}")).to_be_visible()
    _shot(page, "after-sales-customer-closed")


def test_the_customer_downloads_the_invoice_pays_it_and_starts_a_return(page: Page, site):
    main = WarehouseFactory(code="MAIN")
    mug = shelved_product(main, 10, bin_code="A-01-1", sku="MUG-RED", name="Red mug",
                          unit_price=Decimal("10.00"), tax_rate=Decimal("20.00"))
    order = reserved_order(lines=[(mug, 2)], customer=terms_customer(name="Ana Pereira"))
    ship_reserved(order, main)
    invoice = Invoice.objects.get(order=order)
    page.set_viewport_size({"width": 1000, "height": 900})

    page.goto(_link_in_latest_email(order))
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    expect(page.locator(f"[data-open-invoice='{invoice.number}']")).to_contain_text("€24.00")
    _shot(page, "customer-page-pay-and-return")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Invoice {invoice.number}").click()
    with open(download_info.value.path(), "rb") as handle:
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages)
    assert invoice.number in text and "Red mug" in text and "24.00" in text

    page.locator(f"[data-open-invoice='{invoice.number}']").get_by_role("link",
                                                                       name="Pay").click()
    expect(page.get_by_role("heading", name=f"Pay invoice {invoice.number}")).to_be_visible()
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry (MM/YY)").fill("12/39")
    page.get_by_label("Security code").fill("123")
    _shot(page, "customer-pay-form")
    page.get_by_role("button", name="Pay €24.00").click()
    expect(page.locator(".form-errors")).to_contain_text("The card was declined.")
    _shot(page, "customer-pay-declined")
    assert not InvoicePayment.objects.filter(invoice=invoice).exists()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay €24.00").click()
    expect(page.locator("[data-payment-received]")).to_contain_text("€24.00")
    _shot(page, "customer-pay-done")
    invoice.refresh_from_db()
    assert invoice.is_settled and InvoicePayment.objects.filter(invoice=invoice).count() == 1
    assert any(m.subject == f"Payment received for order {order.number}" for m in mail.outbox)

    page.get_by_role("link", name=f"Back to order {order.number}").click()
    expect(page.locator("[data-open-invoice]")).to_have_count(0)
    expect(page.locator(".status").first).to_have_text("Paid")
    ret = _customer_returns_one(page, "MUG-RED", "no_longer_needed")
    assert ret.lines.get().reason == "no_longer_needed"
    _shot(page, "customer-page-return-requested")
