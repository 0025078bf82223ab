"""A customer rates a delivered order from the link in the "delivered"
e-mail; the rating shows on the order page and the manager dashboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from fulfillment import services as fulfillment_services
from orders import payments
from tests.conftest import PASSWORD
from tests.factories.fulfillment import shipped_order

SHOTS = "/tmp/shots-feedback/"  # noqa: S108  screenshots to look at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fresh_shared_cache")]


def test_customer_rates_the_order_and_the_manager_sees_it(page: Page, live_server, settings,
                                                           mailoutbox, make_user, monkeypatch):
    monkeypatch.setattr(payments, "_approver", None)
    settings.SITE_URL = live_server.url
    order, shipment = shipped_order(tracking_number="1ZBROWSER")
    fulfillment_services.confirm_delivery(shipment_id=shipment.pk, actor=None)
    delivered = [mail for mail in mailoutbox if "parcel delivered" in mail.subject][-1]
    url = re.search(r"(\S+#feedback)", delivered.body).group(1)

    page.set_viewport_size({"width": 1000, "height": 900})
    page.goto(url)
    expect(page.get_by_role("heading", name="How was your order?")).to_be_visible()
    page.screenshot(path=SHOTS + "customer-form.png", full_page=True)
    page.get_by_label("Your comment (optional)").fill("No stars given")
    page.get_by_role("button", name="Send my rating").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    expect(page.get_by_label("Your comment (optional)")).to_have_value("No stars given")
    page.screenshot(path=SHOTS + "customer-form-errors.png", full_page=True)
    page.get_by_role("radio", name="4", exact=True).check()
    page.get_by_label("Your comment (optional)").fill("Well packed, one day late.")
    page.get_by_role("button", name="Send my rating").click()
    expect(page.get_by_text("Thank you! Your rating: 4 of 5.")).to_be_visible()
    page.screenshot(path=SHOTS + "customer-thanks.png", full_page=True)

    manager = make_user("Manager")
    staff = page.context.new_page()
    staff.set_viewport_size({"width": 1280, "height": 900})
    staff.goto(f"{live_server.url}/accounts/login/")
    staff.get_by_label("Username").fill(manager.username)
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    staff.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(staff.locator("#order-feedback")).to_contain_text("Well packed, one day late.")
    staff.locator("#order-feedback").screenshot(path=SHOTS + "order-panel.png")
    staff.screenshot(path=SHOTS + "order-page.png", full_page=True)
    staff.goto(f"{live_server.url}/reports/")
    panel = staff.locator("#report-ratings")
    expect(panel).to_contain_text("4.0 / 5")
    panel.screenshot(path=SHOTS + "dashboard-panel.png")
    panel.get_by_role("link", name=order.number).click()
    expect(staff).to_have_url(re.compile(rf"/orders/{order.pk}/$"))
    staff.goto(f"{live_server.url}/customers/{order.customer_id}/")
    staff.locator("#customer-feedback").screenshot(path=SHOTS + "customer-card-panel.png")
