"""In Chromium: customer service finds a parcel by its tracking number, opens
the order and its customer, re-orders, places it, and resolves the new
order's hold from the work queue; on the order list, select-all and a bulk
cancel end on a report per order."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from oms.models import QueueItemHandled
from orders import services as order_services
from orders.models import Order, OrderStatus
from tests.e2e.test_roles_navigation import log_in, screenshot  # noqa: F401  (fixture)
from tests.factories.customers import AddressFactory, CustomerFactory
from tests.factories.fulfillment import WarehouseFactory, shelved_product, shipped_order
from tests.factories.orders import make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_service_reorders_from_a_parcel_and_resolves_the_queue_item(
        page: Page, live_server, make_user, screenshot, settings):  # noqa: F811
    settings.WORK_QUEUE_HOLD_HOURS = 0
    settings.WORK_QUEUE_BADGE_SECONDS = 0
    warehouse = WarehouseFactory(code="MAIN")
    customer = CustomerFactory(name="Hélène Marchal", payment_preference="bank_transfer")
    AddressFactory(customer=customer)
    product = shelved_product(warehouse, 20, bin_code="A-01-1", sku="MUG-1",
                              name="Blue mug", unit_price=Decimal("9.99"))
    order, _shipment = shipped_order([(product, 2)], warehouse=warehouse, customer=customer,
                                     tracking_number="1ZJOURNEY0001")
    # A person in customer service who also takes orders (the Sales role).
    agent = make_user("Customer service", username="cara")
    agent.groups.add(Group.objects.get(name="Sales"))
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server, agent.username)

    box = page.get_by_role("searchbox", name=re.compile("Search orders"))
    box.fill("1ZJOURNEY0001")
    box.press("Enter")  # a whole tracking number opens its shipment
    expect(page).to_have_url(re.compile(r"/fulfillment/shipments/\d+/$"))
    page.get_by_role("link", name=order.number).click()
    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/$"))
    page.get_by_role("link", name="Hélène Marchal").first.click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    page.locator(f"a[href$='?reorder={order.pk}']").click()
    expect(page.locator("[data-line-sku='MUG-1']")).to_be_visible()
    page.click("button[name=action][value=place]")
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    reorder = Order.objects.exclude(pk=order.pk).get()
    assert reorder.customer == customer and reorder.status == OrderStatus.ON_HOLD

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name=re.compile("Work queue")).click()
    expect(page.get_by_role("heading", name="Work queue")).to_be_visible()
    row = page.locator(f"tr[data-queue-row^='held_orders:{reorder.pk}:']")
    expect(row).to_contain_text(reorder.number)
    expect(row).to_contain_text("Prepayment missing")
    expect(page.locator(".queue-count")).to_have_text("1")
    screenshot("work-queue")
    row.get_by_placeholder("Note (optional)").fill("Customer pays by transfer today")
    row.get_by_role("button", name="Mark handled").click()
    expect(page.locator(f"tr[data-queue-row^='held_orders:{reorder.pk}:']")).to_have_count(0)
    expect(page.get_by_text("Nothing waits for a person.")).to_be_visible()
    expect(page.locator(".queue-count")).to_have_count(0)  # the top bar's count follows
    mark = QueueItemHandled.objects.get()
    assert (mark.object_id, mark.handled_by, mark.note) == (
        reorder.pk, agent, "Customer pays by transfer today")
    screenshot("work-queue-handled")


def test_bulk_cancel_from_the_order_list_reports_each_order(page: Page, live_server,
                                                            make_user, screenshot):  # noqa: F811
    warehouse = WarehouseFactory(code="MAIN")
    orders = []
    for _number in range(3):
        product = shelved_product(warehouse, 10, unit_price=Decimal("12.50"))
        orders.append(make_order(lines=[(product, 1)]))
    order_services.cancel_order(order_id=orders[0].pk, actor=None, reason="duplicate")
    make_user("Customer service", username="cara")
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server, "cara")

    page.goto(f"{live_server.url}/orders/")
    page.get_by_label("Select all orders on this page").check()
    expect(page.locator("[data-selected-count='bulk-form'] span")).to_have_text("3")
    page.select_option("#bulk-action", "cancel")
    page.fill("#bulk-reason", "Customer asked by phone")
    screenshot("order-list-bulk-selection")
    page.get_by_role("button", name="Run on selected").click()
    expect(page.get_by_role("heading", name=re.compile("the result per order"))).to_be_visible()
    report = page.locator("table.bulk-report")
    expect(report.locator(f"tr[data-outcome='{orders[0].pk}']")).to_contain_text(
        "Already cancelled.")
    for order in orders[1:]:
        expect(report.locator(f"tr[data-outcome='{order.pk}']")).to_contain_text("Cancelled.")
    screenshot("order-list-bulk-report")
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CANCELLED}


def test_the_queue_shows_each_kind_with_only_the_links_the_reader_may_open(
        page: Page, live_server, make_user, screenshot, settings):  # noqa: F811
    from fulfillment import services as fulfillment_services
    from orders.inputs import ReturnRequest
    from orders.services import returns as return_services

    settings.WORK_QUEUE_HOLD_HOURS = 0
    warehouse = WarehouseFactory(code="MAIN")
    held = make_order(lines=[(shelved_product(warehouse, 5), 1)])  # a new customer: on hold
    returned, _first = shipped_order(warehouse=warehouse, tracking_number="1ZKINDS0001")
    ret = return_services.request_return(data=ReturnRequest.parse({
        "order_id": returned.pk, "channel": "phone", "lines": [
            {"order_line_id": returned.lines.get().pk, "quantity": 1, "reason": "damaged"}]}),
        actor=None)
    stuck, shipment = shipped_order(warehouse=warehouse, tracking_number="1ZKINDS0002")
    fulfillment_services.record_carrier_event(fulfillment_services.CarrierEvent(
        carrier_code=shipment.carrier_service.carrier.code, tracking_number="1ZKINDS0002",
        status="exception", description="Address incomplete: no house number"))
    make_user("Customer service", username="cara")
    make_user("Sales", username="sam")
    page.set_viewport_size({"width": 1400, "height": 900})

    log_in(page, live_server, "cara")
    page.goto(f"{live_server.url}/queue/")
    expect(page.locator(f"tr[data-queue-row^='held_orders:{held.pk}:']")).to_be_visible()
    expect(page.locator(f"tr[data-queue-row='returns:{ret.pk}:requested']")).to_contain_text(
        "approve or refuse")
    trouble = page.locator(f"tr[data-queue-row^='carrier_exceptions:{shipment.pk}:']")
    expect(trouble).to_contain_text("no house number")
    expect(trouble.get_by_role("link", name="Open the shipment")).to_be_visible()
    screenshot("work-queue-kinds")
    page.select_option("#queue-kind", "returns")  # htmx: the results only
    expect(page.locator("tr[data-queue-row]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/queue/\?kind=returns$"))

    page.context.clear_cookies()
    log_in(page, live_server, "sam")  # Sales may not open shipments: no link to one
    page.goto(f"{live_server.url}/queue/")
    trouble = page.locator(f"tr[data-queue-row^='carrier_exceptions:{shipment.pk}:']")
    expect(trouble.get_by_role("link", name="Open the order")).to_be_visible()
    expect(trouble.get_by_role("link", name="Open the shipment")).to_have_count(0)
    assert stuck.pk != returned.pk
