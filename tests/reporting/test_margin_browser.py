"""Margin in Chromium: the manager dashboard, the sales report preview and
the product page with its unit costs; screenshots go to the Playwright
output folder."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import F
from playwright.sync_api import Page, expect

from inventory.models import ProductCost
from oms.models import ExchangeRate
from orders.models import Order
from tests.conftest import PASSWORD
from tests.factories.orders import make_order, stocked_product
from tests.factories.reporting import make_reportsubscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def _sales() -> dict:
    """Each set twice: placed yesterday (the report's period) and today (the
    dashboard's month). The lamp's cost is unknown; the monitor is bought in USD."""
    desk = stocked_product(sku="DESK", name="Oak desk", unit_price=Decimal("489.00"))
    monitor = stocked_product(sku="MON", name="27-inch monitor", unit_price=Decimal("329.00"))
    lamp = stocked_product(sku="LAMP", name="LED lamp", unit_price=Decimal("39.90"))
    ProductCost.objects.create(product=desk, currency="EUR", cost=Decimal("262.00"))
    ProductCost.objects.create(product=monitor, currency="USD", cost=Decimal("231.00"))
    ExchangeRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.08"),
                                valid_from=date(2026, 1, 1))
    for _day in range(2):
        make_order(lines=[(desk, 2), (lamp, 3)], channel="web")
        make_order(lines=[(monitor, 4)], channel="phone")
        make_order(lines=[(desk, 1)], channel="web", currency="USD")
        if _day == 0:
            Order.objects.update(placed_at=F("placed_at") - timedelta(days=1))
    return {"desk": desk}


def test_a_manager_sees_the_margin_on_the_dashboard_report_and_product(
        page: Page, live_server, make_user, pytestconfig):
    products = _sales()
    manager = make_user("Manager")
    subscription = make_reportsubscription(owner=manager, period="yesterday")
    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, live_server, manager.username)

    page.goto(f"{live_server.url}/reports/")
    margin = page.locator("#report-margin")
    expect(margin).to_contain_text("Margin this month")
    expect(margin.locator('[data-margin-currency="EUR"]')).to_contain_text("lines")
    margin.scroll_into_view_if_needed()
    page.screenshot(path=str(folder / "dashboard-margin.png"), full_page=True)
    margin.screenshot(path=str(folder / "dashboard-margin-card.png"))

    page.goto(f"{live_server.url}/reports/subscriptions/{subscription.pk}/preview/")
    preview = page.locator("#preview-card")
    expect(preview).to_contain_text("Margin (EUR)")
    expect(preview.locator("tbody")).to_contain_text("unknown")
    preview.screenshot(path=str(folder / "sales-report-margin.png"))

    page.goto(f"{live_server.url}/inventory/products/{products['desk'].pk}/")
    costs = page.locator("#product-costs")
    expect(costs).to_contain_text("€262.00")
    costs.get_by_label("Currency").select_option("USD")
    costs.get_by_label("Unit cost").fill("280.00")
    costs.get_by_role("button", name="Save cost").click()
    expect(page.get_by_text("Unit cost in USD saved.")).to_be_visible()
    expect(page.locator("#product-costs")).to_contain_text("$280.00")
    page.screenshot(path=str(folder / "product-costs.png"), full_page=True)
