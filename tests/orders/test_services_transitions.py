"""approve / hold / reject / cancel / notes: legal moves, and illegal ones
refused with 409 while nothing changes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inventory.models import Reservation, StockLevel
from oms.lib.errors import ApplicationError, NotAllowed
from orders.models import EventKind, HoldReason, Order, OrderStatus
from orders.services import (
    add_note,
    allocate_backorder,
    approve_order,
    cancel_order,
    expire_orders,
    hold_order,
    reject_order,
)
from tests.factories.customers import CustomerFactory
from tests.factories.inventory import stock
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


def _snapshot(order: Order):
    order = Order.objects.get(pk=order.pk)
    return (order.status, order.hold_reason, order.updated_at, order.events.count(),
            sorted(Reservation.objects.filter(order_id=order.pk)
                   .values_list("kind", "status", "quantity")),
            sorted(StockLevel.objects.values_list("id", "on_hand", "reserved")))


def test_approve_makes_holds_firm_and_sends_confirmation(make_user, mailoutbox):
    manager = make_user("Manager")
    order = make_order()
    order = approve_order(order_id=order.pk, actor=manager, reason="looks fine")
    assert order.status == OrderStatus.RESERVED
    assert order.hold_expires_at is None
    assert list(Reservation.objects.filter(order_id=order.pk)
                .values_list("kind", "status", "expires_at")) == [("firm", "active", None)]
    event = order.events.filter(kind=EventKind.STATUS_CHANGED).last()
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        "placed", "reserved", manager, "looks fine")
    assert [m.subject for m in mailoutbox][-1].endswith("is confirmed")


def test_hold_then_approve_from_on_hold():
    order = make_order()
    order = hold_order(order_id=order.pk, reason_code=HoldReason.NEW_CUSTOMER,
                       reason_text="first order", actor=None)
    assert (order.status, order.hold_reason, order.hold_note) == (
        OrderStatus.ON_HOLD, "new_customer", "first order")
    # stock stays held while a person decides
    assert Reservation.objects.get(order_id=order.pk).kind == "hold"
    order = approve_order(order_id=order.pk, actor=None)
    assert order.status == OrderStatus.RESERVED and order.hold_reason == ""


def test_hold_notifies_the_approvers(make_user, mailoutbox):
    make_user("Accounting")
    make_user("Warehouse")
    order = make_order()
    hold_order(order_id=order.pk, reason_code=HoldReason.CREDIT_LIMIT, actor=None)
    staff = [m for m in mailoutbox if "on hold" in m.subject and m.to != [order.customer.email]]
    assert len(staff) == 1
    assert staff[0].to == ["accounting@oms.example"]


def test_approval_after_the_holds_lapsed_re_reserves_when_stock_is_there():
    order = make_order()
    Reservation.objects.filter(order_id=order.pk).update(status="expired")
    StockLevel.objects.update(reserved=0)
    order = approve_order(order_id=order.pk, actor=None)
    assert order.status == OrderStatus.RESERVED
    assert Reservation.objects.get(order_id=order.pk, status="active").kind == "firm"


def test_approval_without_stock_backorders_then_allocation_reserves():
    product = stocked_product(2)
    order = make_order(lines=[(product, 2)])
    # the holds vanish and someone else takes the stock
    Reservation.objects.filter(order_id=order.pk).update(status="expired")
    StockLevel.objects.update(reserved=2)
    order = approve_order(order_id=order.pk, actor=None)
    assert order.status == OrderStatus.BACKORDERED

    with pytest.raises(NotAllowed):
        allocate_backorder(order_id=order.pk, actor=None)
    stock(product, StockLevel.objects.get(product=product).warehouse, 5)
    order = allocate_backorder(order_id=order.pk, actor=None)
    assert order.status == OrderStatus.RESERVED


def test_reject_releases_stock_and_tells_the_customer(mailoutbox):
    order = make_order()
    hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL, actor=None)
    order = reject_order(order_id=order.pk, actor=None, reason="fraud suspected")
    assert order.status == OrderStatus.CANCELLED and order.closed_at is not None
    assert StockLevel.objects.get().reserved == 0
    assert Reservation.objects.get(order_id=order.pk).status == "released"
    assert "fraud suspected" in mailoutbox[-1].body


@pytest.mark.parametrize("approve_first", [False, True])
def test_cancel_releases_reserved_stock(approve_first):
    order = make_order()
    if approve_first:
        approve_order(order_id=order.pk, actor=None)
    order = cancel_order(order_id=order.pk, actor=None, reason="customer called")
    assert order.status == OrderStatus.CANCELLED
    assert StockLevel.objects.get().reserved == 0
    assert order.events.filter(to_status="cancelled").get().data == {"reservations_released": 1}


def test_cancelling_a_draft_sends_no_email(mailoutbox):
    order = make_order(draft=True)
    cancel_order(order_id=order.pk, actor=None, reason="entered twice")
    assert mailoutbox == []


def _placed():
    return make_order()


def _on_hold():
    order = make_order()
    return hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL, actor=None)


def _reserved():
    order = make_order()
    return approve_order(order_id=order.pk, actor=None)


def _cancelled():
    order = make_order()
    return cancel_order(order_id=order.pk, actor=None, reason="x")


def _expired():
    order = make_order()
    expire_orders(now=timezone.now() + timezone.timedelta(hours=2))
    return Order.objects.get(pk=order.pk)


def _draft():
    return make_order(draft=True)


ILLEGAL = [
    ("approve", _draft), ("approve", _reserved), ("approve", _cancelled), ("approve", _expired),
    ("hold", _draft), ("hold", _on_hold), ("hold", _reserved), ("hold", _expired),
    ("reject", _placed), ("reject", _reserved), ("reject", _draft),
    ("cancel", _cancelled), ("cancel", _expired),
    ("allocate", _placed),
]

ACTIONS = {
    "approve": lambda pk: approve_order(order_id=pk, actor=None),
    "hold": lambda pk: hold_order(order_id=pk, reason_code="manual", actor=None),
    "reject": lambda pk: reject_order(order_id=pk, actor=None, reason="no"),
    "cancel": lambda pk: cancel_order(order_id=pk, actor=None, reason="no"),
    "allocate": lambda pk: allocate_backorder(order_id=pk, actor=None),
}


@pytest.mark.parametrize("action, make", ILLEGAL,
                         ids=[f"{a}-{m.__name__[1:]}" for a, m in ILLEGAL])
def test_illegal_transition_is_409_and_changes_nothing(action, make):
    order = make()
    before = _snapshot(order)
    with pytest.raises(NotAllowed) as exc:
        ACTIONS[action](order.pk)
    assert exc.value.status == 409
    assert order.number in exc.value.message
    assert _snapshot(order) == before


@pytest.mark.parametrize("call, field", [
    (lambda pk: hold_order(order_id=pk, reason_code="bored", actor=None), "reason_code"),
    (lambda pk: hold_order(order_id=pk, reason_code="manual", reason_text="x" * 5000,
                           actor=None), "reason_text"),
    (lambda pk: cancel_order(order_id=pk, actor=None, reason="  "), "reason"),
    (lambda pk: reject_order(order_id=pk, actor=None, reason=""), "reason"),
    (lambda pk: add_note(order_id=pk, text="", actor=None), "text"),
    (lambda pk: add_note(order_id=pk, text=None, actor=None), "text"),
])
def test_bad_input_to_transitions_is_a_field_error_and_changes_nothing(call, field):
    order = _placed()
    before = _snapshot(order)
    with pytest.raises(ApplicationError) as exc:
        call(order.pk)
    assert field in exc.value.field_errors
    assert _snapshot(order) == before


def test_unknown_order_is_404():
    with pytest.raises(ApplicationError) as exc:
        approve_order(order_id=999_999, actor=None)
    assert exc.value.status == 404


def test_add_note_appends_to_the_timeline(make_user):
    user = make_user("Customer service")
    order = make_order()
    event = add_note(order_id=order.pk, text="  Customer asked for a gift wrap  ", actor=user)
    assert (event.kind, event.reason, event.actor) == ("note", "Customer asked for a gift wrap",
                                                       user)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED


def test_status_cannot_be_assigned_directly():
    order = make_order()
    with pytest.raises(AttributeError):
        order.status = OrderStatus.RESERVED


def test_blocked_after_placement_can_still_be_cancelled():
    customer = CustomerFactory()
    order = make_order(customer=customer)
    customer.standing = "blocked"
    customer.save()
    assert cancel_order(order_id=order.pk, actor=None, reason="blocked").status == "cancelled"


def test_allocate_backorders_reserves_the_orders_whose_stock_arrived(mailoutbox):
    from orders.services import allocate_backorders
    from orders.tasks import allocate_backorders as task

    product = stocked_product(1)
    customer = CustomerFactory(accepts_backorder=True)
    first = make_order(customer=customer, lines=[(product, 3)])
    second = make_order(customer=customer, lines=[(product, 5)])
    for order in (first, second):
        assert approve_order(order_id=order.pk, actor=None).status == OrderStatus.BACKORDERED
    assert allocate_backorders() == 0
    stock(product, StockLevel.objects.get(product=product).warehouse, 3)  # 4 on hand now
    # both lines take stock (the older first, whole; the second one unit)
    assert task.apply().result == 2
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "reserved", second.pk: "backordered"}
    assert f"Your order {first.number} is confirmed" in {m.subject for m in mailoutbox[-2:]}
