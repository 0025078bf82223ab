"""After-sales screens in a real browser: the warehouse unpicks on the pick
list, the order edit screen names the pick list to unpick on, accounting
settles a return as an exchange for another product, and a customer's
address change request goes from their page to the order page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from inventory.models import Warehouse
from orders.links import live_link_token
from orders.models import AddressChangeRequest, OrderStatus
from tests.billing.invoicing_support import reserved_order as billed_order
from tests.billing.test_returns import _inspected
from tests.conftest import PASSWORD
from tests.factories.customers import address_data
from tests.factories.fulfillment import picked_order, reserved_order, shelved_product, ship_reserved
from tests.factories.inventory import WarehouseFactory
from tests.factories.orders import stocked_product

SHOTS = "/tmp/shots-aftersales/"  # noqa: S108  screenshots to look at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_warehouse_unpicks_and_the_clerk_then_shrinks_the_line(page: Page, live_server,
                                                               make_user):
    page.set_viewport_size({"width": 1200, "height": 900})
    main = WarehouseFactory(code="MAIN")
    product = shelved_product(main, 10, bin_code="A-01-2", sku="TEE-M-RED")
    order, pick_list = picked_order([(product, 3)], main)
    clerk = make_user("Sales")
    _login(page, live_server, clerk)
    page.goto(f"{live_server.url}{reverse('orders:edit', args=[order.pk])}")
    expect(page.get_by_text("3 units picked: to go lower, unpick them first on")).to_be_visible()
    page.get_by_label("Quantity of TEE-M-RED").fill("1")
    page.get_by_label("Quantity of TEE-M-RED").press("Tab")
    expect(page.locator("#change-effect")).to_contain_text("Unpick the picked units")
    page.screenshot(path=SHOTS + "order-edit-needs-unpick.png", full_page=True)

    page.context.clear_cookies()
    _login(page, live_server, make_user("Warehouse"))
    page.goto(f"{live_server.url}{reverse('fulfillment:pick_list', args=[pick_list.pk])}")
    page.screenshot(path=SHOTS + "pick-list-unpick.png", full_page=True)
    page.get_by_label(order.number).fill("2")
    page.get_by_role("button", name="Unpick").click()
    expect(page.get_by_role("status")).to_contain_text("2 x TEE-M-RED unpicked")
    page.screenshot(path=SHOTS + "pick-list-unpicked.png", full_page=True)


def test_accounting_settles_an_exchange_for_another_size(page: Page, live_server, make_user,
                                                         django_capture_on_commit_callbacks):
    page.set_viewport_size({"width": 1200, "height": 900})
    product = stocked_product(20, sku="SHIRT-M", unit_price=Decimal("10.00"),
                              tax_rate=Decimal("20.00"))
    stocked_product(20, sku="SHIRT-XL", unit_price=Decimal("12.50"), tax_rate=Decimal("20.00"))
    order = billed_order(on_terms=False, lines=[(product, 2)])
    with django_capture_on_commit_callbacks(execute=True):
        ship_reserved(order, Warehouse.objects.get(code="MAIN"))
    ret = _inspected(order)
    _login(page, live_server, make_user("Accounting"))
    page.goto(f"{live_server.url}{reverse('orders:return_detail', args=[ret.pk])}")
    page.get_by_label("Exchange (replacement order)").check()
    page.locator("#exchange-sku-0").fill("SHIRT-XL")
    page.locator("#exchange-quantity-0").fill("1")
    page.screenshot(path=SHOTS + "return-exchange-form.png", full_page=True)
    page.get_by_role("button", name="Settle").click()
    expect(page.get_by_text(f"Return {ret.number} settled")).to_be_visible()
    expect(page.locator("[data-exchange-charge]")).to_contain_text("€3.00")
    page.screenshot(path=SHOTS + "return-exchange-settled.png", full_page=True)
    ret.refresh_from_db()
    assert ret.exchange_order.total_gross == Decimal("3.00")


@pytest.mark.usefixtures("fresh_shared_cache")
def test_customer_asks_for_another_address_and_staff_accepts(page: Page, live_server,
                                                             make_user):
    page.set_viewport_size({"width": 1000, "height": 900})
    order = reserved_order([(stocked_product(10), 1)], shipping_address=address_data())
    page.goto(f"{live_server.url}{reverse('customer_order_page', args=[live_link_token(order)])}")
    page.get_by_text("Deliver to another address").click()
    page.get_by_label("Address", exact=True).fill("3 Quai Voltaire")
    page.get_by_label("Country (ISO code)").fill("XX")
    page.get_by_role("button", name="Ask for this address").click()
    page.screenshot(path=SHOTS + "customer-address-error.png", full_page=True)
    page.get_by_label("Country (ISO code)").fill("FR")
    page.get_by_role("button", name="Ask for this address").click()
    expect(page.get_by_role("status")).to_contain_text("our customer service will confirm")
    page.screenshot(path=SHOTS + "customer-address-requested.png", full_page=True)

    staff = page.context.new_page()
    staff.set_viewport_size({"width": 1200, "height": 900})
    _login(staff, live_server, make_user("Sales"))
    staff.goto(f"{live_server.url}{reverse('orders:detail', args=[order.pk])}")
    staff.screenshot(path=SHOTS + "order-address-request.png", full_page=True)
    staff.get_by_role("button", name="Accept the new address").click()
    expect(staff.get_by_text("New delivery address accepted")).to_be_visible()
    staff.screenshot(path=SHOTS + "order-address-accepted.png", full_page=True)
    assert AddressChangeRequest.objects.get(order=order).status == "accepted"
    order.refresh_from_db()
    assert order.shipping_address["line1"] == "3 Quai Voltaire"
    assert order.status == OrderStatus.RESERVED
