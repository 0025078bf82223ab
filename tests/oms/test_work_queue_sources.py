"""The work queue's sources: each condition brings its row, and the row goes
when the condition is resolved or a person marks it handled (until the
condition recurs)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.providers.sandbox import DECLINE
from customers.inputs import AddressInput
from fulfillment import services as fulfillment_services
from oms.lib import workqueue
from oms.lib.errors import ApplicationError
from oms.lib.roles import CUSTOMER_SERVICE, SALES
from oms.models import OutboxMessage
from orders import services as order_services
from orders.emails import CUSTOMER_EMAILS
from orders.inputs import ReturnDecision, ReturnRequest
from orders.models import HoldReason
from orders.services import address_requests
from orders.services import returns as return_services
from tests.factories.billing import card
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.fulfillment import reserved_order, shipped_order
from tests.factories.inventory import ProductFactory
from tests.factories.orders import make_order, stocked_product
from tests.factories.purchasing import backordered_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user):
    return make_user(CUSTOMER_SERVICE)


def rows_of(user, kind: str) -> list[workqueue.Row]:
    return [row for row in workqueue.collect(user) if row.kind == kind]


def handle(row: workqueue.Row, user) -> None:
    workqueue.mark_handled(kind=row.kind, object_id=row.object_id, version=row.version,
                           note="called the customer", actor=user)


def test_an_order_held_past_the_threshold_waits_until_approved(agent, settings):
    settings.WORK_QUEUE_HOLD_HOURS = 24
    order = make_order()
    order = order_services.hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL,
                                      actor=None)
    assert rows_of(agent, "held_orders") == []  # not long enough yet
    settings.WORK_QUEUE_HOLD_HOURS = 0
    (row,) = rows_of(agent, "held_orders")
    assert row.object_id == order.pk and row.order_id == order.pk
    assert "Held by hand" in row.reason
    assert [link.view_name for link in row.links] == ["orders:detail"]
    order_services.approve_order(order_id=order.pk, actor=None)
    assert rows_of(agent, "held_orders") == []


def test_a_handled_hold_comes_back_when_the_order_is_held_again(agent, settings):
    settings.WORK_QUEUE_HOLD_HOURS = 0
    order = make_order()
    order_services.hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL, actor=None)
    (row,) = rows_of(agent, "held_orders")
    handle(row, agent)
    assert rows_of(agent, "held_orders") == []
    order_services.change_hold_reason(order_id=order.pk, reason_code=HoldReason.NEW_CUSTOMER,
                                      actor=None)
    (again,) = rows_of(agent, "held_orders")
    assert again.version != row.version


def test_a_declined_payment_waits_until_another_payment_or_the_order_ends(
        agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    (row,) = rows_of(agent, "failed_payments")
    assert row.order_id == order.pk and "declined" in row.reason
    order_services.cancel_order(order_id=order.pk, actor=None, reason="customer gave up")
    assert rows_of(agent, "failed_payments") == []


def test_a_declined_payment_marked_handled_leaves_the_queue(agent,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_order(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    (row,) = rows_of(agent, "failed_payments")
    handle(row, agent)
    assert rows_of(agent, "failed_payments") == []


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order, shipment = shipped_order(tracking_number="1ZQUEUE0001")
    return order, shipment


def _return_request(order) -> ReturnRequest:
    return ReturnRequest.parse({"order_id": order.pk, "channel": "phone", "lines": [
        {"order_line_id": order.lines.get().pk, "quantity": 1, "reason": "damaged"}]})


def test_a_requested_return_waits_until_decided(agent, shipped):
    order, _shipment = shipped
    ret = return_services.request_return(data=_return_request(order), actor=agent)
    (row,) = rows_of(agent, "returns")
    assert row.object_id == ret.pk and "approve or refuse" in row.reason
    assert [link.view_name for link in row.links] == ["orders:return_detail", "orders:detail"]
    return_services.refuse_return(return_id=ret.pk, actor=agent,
                                  data=ReturnDecision.parse({"reason": "worn"}))
    assert rows_of(agent, "returns") == []


def test_a_received_return_waits_for_inspection(agent, shipped):
    order, _shipment = shipped
    ret = return_services.request_return(data=_return_request(order), actor=agent)
    (requested,) = rows_of(agent, "returns")
    handle(requested, agent)
    return_services.approve_return(return_id=ret.pk, actor=agent)
    line = order.lines.get()
    return_services.scan_returned_units(return_id=ret.pk, sku=line.sku, quantity=1, actor=None)
    return_services.complete_return_receipt(return_id=ret.pk, actor=None)
    (received,) = rows_of(agent, "returns")  # a new occurrence: received, not inspected
    assert "not inspected" in received.reason and received.version == "received"


def test_a_carrier_exception_waits_until_delivered_or_handled(agent, shipped):
    order, shipment = shipped
    carrier = shipment.carrier_service.carrier.code
    fulfillment_services.record_carrier_event(fulfillment_services.CarrierEvent(
        carrier_code=carrier, tracking_number="1ZQUEUE0001", status="exception",
        description="Address not found"))
    (row,) = rows_of(agent, "carrier_exceptions")
    assert row.object_id == shipment.pk and "Address not found" in row.reason
    assert [link.view_name for link in row.links] == ["fulfillment:shipment", "orders:detail"]
    handle(row, agent)
    assert rows_of(agent, "carrier_exceptions") == []
    fulfillment_services.record_carrier_event(fulfillment_services.CarrierEvent(
        carrier_code=carrier, tracking_number="1ZQUEUE0001", status="exception",
        description="Recipient absent"))
    (again,) = rows_of(agent, "carrier_exceptions")  # recurred: a new event
    assert "Recipient absent" in again.reason
    fulfillment_services.confirm_delivery(shipment_id=shipment.pk, actor=None)
    assert rows_of(agent, "carrier_exceptions") == []


def test_a_late_order_waits_until_it_is_no_longer_late(agent):
    product = ProductFactory(unit_price=Decimal("10.00"))
    promised = timezone.localdate() + timedelta(days=5)
    order = backordered_order(product, 2, promised_delivery_date=promised)
    (row,) = rows_of(agent, "late_orders")
    assert row.order_id == order.pk and "No stock and no purchase order" in row.reason
    order_services.cancel_order(order_id=order.pk, actor=None, reason="too late")
    assert rows_of(agent, "late_orders") == []


def test_a_failed_customer_email_waits_until_one_goes_out_after_it(
        agent, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order()
    last = OutboxMessage.objects.filter(handler="orders.send_order_email").latest("pk")
    OutboxMessage.objects.filter(pk=last.pk).update(status=OutboxMessage.Status.FAILED,
                                                    created_at=timezone.now())
    (row,) = rows_of(agent, "failed_emails")
    assert row.object_id == last.pk and row.order_id == order.pk
    subject = CUSTOMER_EMAILS[last.payload["kind"]](order)
    assert order.number in subject
    assert row.reason == (f"The e-mail “{subject}” to {order.customer.email} could not be "
                          "sent.")
    with django_capture_on_commit_callbacks(execute=True):
        order_services.resend_last_customer_email(order_id=order.pk, actor=agent)
    assert rows_of(agent, "failed_emails") == []
    assert mailoutbox[-1].to == [order.customer.email]


def test_rows_are_oldest_first_and_filtered_by_kind(agent, settings, shipped):
    settings.WORK_QUEUE_HOLD_HOURS = 0
    order, _shipment = shipped
    ret = return_services.request_return(data=_return_request(order), actor=agent)
    held = make_order()
    order_services.hold_order(order_id=held.pk, reason_code=HoldReason.MANUAL, actor=None)
    rows = workqueue.collect(agent)
    assert [row.kind for row in rows] == ["returns", "held_orders"]
    assert [row.object_id for row in workqueue.collect(agent, kind="returns")] == [ret.pk]
    with pytest.raises(workqueue.UnknownKind):
        workqueue.collect(agent, kind="nonsense")


def test_marking_a_row_that_is_gone_is_refused_and_writes_nothing(agent, settings):
    settings.WORK_QUEUE_HOLD_HOURS = 0
    order = make_order()
    order_services.hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL, actor=None)
    (row,) = rows_of(agent, "held_orders")
    order_services.approve_order(order_id=order.pk, actor=None)
    with pytest.raises(ApplicationError, match="no longer in the queue"):
        handle(row, agent)
    with pytest.raises(ApplicationError, match="at most 500"):
        workqueue.mark_handled(kind=row.kind, object_id=row.object_id, version=row.version,
                               note="x" * 501, actor=agent)
    from oms.models import QueueItemHandled

    assert not QueueItemHandled.objects.exists()


def test_sales_sees_the_queue_and_warehouse_does_not(make_user, settings):
    settings.WORK_QUEUE_HOLD_HOURS = 0
    order = make_order()
    order_services.hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL, actor=None)
    assert [row.order_id for row in workqueue.collect(make_user(SALES))] == [order.pk]
    assert workqueue.collect(make_user("Warehouse")) == []


def test_an_address_change_request_waits_until_decided(agent):
    order = reserved_order([(stocked_product(10), 1)], shipping_address=address_data())
    request = address_requests.request_address_change(
        order_id=order.pk, data=AddressInput.parse(address_data(line1="3 Quai Voltaire")),
        actor=None)
    (row,) = rows_of(agent, "address_requests")
    assert row.object_id == request.pk and row.order_id == order.pk
    assert "another address" in row.reason
    assert [link.view_name for link in row.links] == ["orders:detail"]
    address_requests.accept_address_change(request_id=request.pk, actor=agent)
    assert rows_of(agent, "address_requests") == []
