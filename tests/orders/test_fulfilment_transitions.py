"""The order states after reservation: picking, packed, shipped, invoiced,
paid; illegal moves are refused with 409 and change nothing."""

from __future__ import annotations

import pytest

from oms.lib import events
from oms.lib.errors import ApplicationError, NotAllowed
from oms.models import OutboxMessage
from orders.models import EventKind, OrderStatus
from orders.services import (
    approve_order,
    cancel_order,
    mark_invoiced,
    mark_packed,
    mark_paid,
    mark_shipped,
    record_short_pick,
    start_picking,
)
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def reserved():
    order = make_order()
    return approve_order(order_id=order.pk, actor=None)


@pytest.fixture
def subscribed():
    """A subscriber for both domain events, so publishing writes outbox rows."""
    for event in ("order.shipped", "order.cancelled"):
        events.subscribe(event, "orders.notify_order_held")  # any registered handler
    yield
    for event in ("order.shipped", "order.cancelled"):
        events._SUBSCRIBERS[event].remove("orders.notify_order_held")


def test_the_full_path_writes_one_event_per_state(reserved, make_user):
    clerk = make_user("Warehouse")
    start_picking(order_id=reserved.pk, actor=clerk)
    mark_packed(order_id=reserved.pk, actor=clerk)
    mark_shipped(order_id=reserved.pk, actor=clerk, data={"shipments": [1]})
    mark_invoiced(order_id=reserved.pk, invoice_number="INV-2026-000001", actor=None)
    order = mark_paid(order_id=reserved.pk, actor=None)
    assert order.status == OrderStatus.PAID and order.closed_at and order.shipped_at
    path = list(order.events.filter(kind=EventKind.STATUS_CHANGED)
                .values_list("to_status", flat=True))
    assert path[-5:] == ["picking", "packed", "shipped", "invoiced", "paid"]
    assert order.events.get(to_status="invoiced").data == {"invoice_number": "INV-2026-000001"}
    assert order.events.get(to_status="picking").actor == clerk


def test_shipped_publishes_the_domain_event_once(reserved, subscribed):
    start_picking(order_id=reserved.pk, actor=None)
    mark_packed(order_id=reserved.pk, actor=None)
    mark_shipped(order_id=reserved.pk, actor=None)
    rows = OutboxMessage.objects.filter(payload__event="order.shipped",
                                       handler="orders.notify_order_held")
    assert [row.payload["order_id"] for row in rows] == [reserved.pk]


def test_cancel_while_picking_releases_stock_and_publishes(reserved, subscribed):
    start_picking(order_id=reserved.pk, actor=None)
    order = cancel_order(order_id=reserved.pk, actor=None, reason="changed mind")
    assert order.status == OrderStatus.CANCELLED
    assert OutboxMessage.objects.filter(payload__event="order.cancelled",
                                        handler="orders.notify_order_held",
                                        payload__order_id=order.pk).count() == 1


@pytest.mark.parametrize("call", [
    lambda pk: mark_packed(order_id=pk, actor=None),
    lambda pk: mark_shipped(order_id=pk, actor=None),
    lambda pk: mark_invoiced(order_id=pk, invoice_number="X", actor=None),
    lambda pk: mark_paid(order_id=pk, actor=None),
    lambda pk: record_short_pick(order_id=pk, lines={1: 1}, actor=None),
])
def test_skipping_a_state_is_refused_with_409(reserved, call):
    with pytest.raises(NotAllowed) as refused:
        call(reserved.pk)
    assert refused.value.status == 409
    reserved.refresh_from_db()
    assert reserved.status == OrderStatus.RESERVED


def test_a_placed_order_cannot_start_picking():
    order = make_order()
    with pytest.raises(NotAllowed):
        start_picking(order_id=order.pk, actor=None)


def test_shipped_order_cannot_be_cancelled(reserved):
    start_picking(order_id=reserved.pk, actor=None)
    mark_packed(order_id=reserved.pk, actor=None)
    mark_shipped(order_id=reserved.pk, actor=None)
    with pytest.raises(NotAllowed):
        cancel_order(order_id=reserved.pk, actor=None, reason="too late")


def test_repeated_invoiced_and_paid_change_nothing(reserved):
    start_picking(order_id=reserved.pk, actor=None)
    mark_packed(order_id=reserved.pk, actor=None)
    mark_shipped(order_id=reserved.pk, actor=None)
    mark_invoiced(order_id=reserved.pk, invoice_number="INV-1", actor=None)
    mark_invoiced(order_id=reserved.pk, invoice_number="INV-1", actor=None)
    mark_paid(order_id=reserved.pk, actor=None)
    mark_paid(order_id=reserved.pk, actor=None)
    assert reserved.events.filter(to_status__in=["invoiced", "paid"]).count() == 2


def test_short_pick_is_validated_per_line(reserved):
    start_picking(order_id=reserved.pk, actor=None)
    line = reserved.lines.get()  # quantity 2
    with pytest.raises(ApplicationError):
        record_short_pick(order_id=reserved.pk, lines={line.pk: 3}, actor=None)
    with pytest.raises(ApplicationError):
        record_short_pick(order_id=reserved.pk, lines={line.pk + 999: 1}, actor=None)
    record_short_pick(order_id=reserved.pk, lines={line.pk: 1}, actor=None, reason="bin empty")
    record_short_pick(order_id=reserved.pk, lines={line.pk: 1}, actor=None)
    line.refresh_from_db()
    assert line.backordered_quantity == 2
    with pytest.raises(ApplicationError):
        record_short_pick(order_id=reserved.pk, lines={line.pk: 1}, actor=None)
    assert reserved.events.filter(kind=EventKind.STOCK).count() == 2


def test_warehouse_sees_no_fulfilment_buttons_but_transitions_carry_permissions(
        reserved, make_user):
    clerk = make_user("Warehouse")
    sales = make_user("Sales")
    assert {t.name for t in reserved.get_available_user_status_transitions(clerk)} == {
        "start_picking"}
    assert "start_picking" not in {
        t.name for t in reserved.get_available_user_status_transitions(sales)}
