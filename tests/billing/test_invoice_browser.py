"""Accounting in real Chromium: from the menu to an overdue invoice, the PDF,
a payment with a mistake corrected, the receivables page (1280px and tablet)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing import services
from billing.models import Invoice
from tests.billing.invoicing_support import reserved_order
from tests.billing.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800},
                                      {"width": 820, "height": 1180}])
def test_accounting_records_a_payment_on_an_overdue_invoice(page: Page, live_server,
                                                            make_user, viewport):
    order = reserved_order()
    issued = timezone.localdate() - timedelta(days=40)  # 30-day terms: 10 days overdue
    invoice = services.issue_invoice(order_id=order.pk, actor=None, today=issued)
    services.render_invoice_pdf(invoice_id=invoice.pk, send_email=False)
    accountant = make_user("Accounting")
    page.set_viewport_size(viewport)
    log_in(page, live_server, accountant.username)

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Receivables").click()
    expect(page.get_by_role("heading", name="Accounts receivable")).to_be_visible()
    expect(page.locator("#aging [data-bucket='d1_30']")).to_contain_text("€24.00")
    page.get_by_role("link", name=invoice.number).click()

    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_contain_text(
        "Overdue")
    href = page.get_by_role("link", name="Download PDF").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    page.get_by_role("spinbutton", name="Amount").fill("-4")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".form-errors")).to_be_visible()
    page.get_by_role("spinbutton", name="Amount").fill("10.00")
    page.get_by_label("Reference").fill("STMT-7")
    page.get_by_label("Reference").press("Enter")  # keyboard submit
    expect(page.locator(".flash")).to_contain_text("Payment of €10.00 recorded")
    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_contain_text(
        "Overdue")  # still past due, now partly paid
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"invoice-{viewport['width']}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.status == "partially_paid" and invoice.outstanding == 14
