"""A customer opens their order page from the link in the e-mail; a staff
member revokes it and the old link answers the not-found page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.factories.orders import make_order

SHOTS = "/tmp/custpage-"  # noqa: S108  screenshots to look at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fresh_shared_cache")]


def test_customer_follows_the_email_link_and_staff_revokes_it(page: Page, live_server, settings,
                                                               mailoutbox, make_user):
    settings.SITE_URL = live_server.url
    order = make_order()  # the "received" e-mail goes out through the outbox
    url = re.search(r"Follow your order: (\S+)", mailoutbox[-1].body).group(1)
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto(url)
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    expect(page.locator("tbody")).to_contain_text(order.lines.get().name)
    page.screenshot(path=SHOTS + "order-page.png", full_page=True)

    staff = make_user("Sales")
    staff_page = page.context.new_page()
    staff_page.goto(f"{live_server.url}/accounts/login/")
    staff_page.get_by_label("Username").fill(staff.username)
    staff_page.get_by_label("Password").fill(PASSWORD)
    staff_page.get_by_role("button", name="Log in").click()
    staff_page.goto(f"{live_server.url}/orders/{order.pk}/")
    staff_page.screenshot(path=SHOTS + "staff-order.png", full_page=True)
    staff_page.get_by_role("button", name="Revoke the customer's link").click()
    expect(staff_page.get_by_text("The customer's link was revoked")).to_be_visible()

    response = page.goto(url)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.screenshot(path=SHOTS + "not-found.png", full_page=True)


def test_customer_downloads_the_invoice_from_the_page(page: Page, live_server, settings,
                                                      django_capture_on_commit_callbacks):
    from billing.models import Invoice
    from tests.billing.invoicing_support import reserved_order, ship, terms_customer

    settings.SITE_URL = live_server.url
    order = reserved_order(customer=terms_customer())
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    invoice = Invoice.objects.get(order=order)
    invoice_mail = next(m for m in mail.outbox if invoice.number in m.subject
                        or any(a[0] == f"{invoice.number}.pdf" for a in m.attachments))
    url = re.search(r"Follow your order: (\S+)", invoice_mail.body).group(1)
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto(url)
    page.screenshot(path=SHOTS + "order-page-invoiced.png", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Invoice {invoice.number}").click()
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
