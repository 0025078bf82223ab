"""allocate_waiting and line-level approval: each line reserves what is
there, the rest waits and is served first come first served as stock
arrives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from inventory.models import Reservation, StockLevel
from orders.models import EventKind, Order, OrderStatus
from orders.services import allocate_backorders, allocate_waiting, approve_order
from tests.factories.customers import CustomerFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import make_order, stocked_product
from tests.orders.allocation_support import assert_books_balance

pytestmark = pytest.mark.django_db(transaction=True)


def _backordered(product, quantity, *, customer=None, **fields):
    customer = customer or CustomerFactory(accepts_backorder=True)
    order = make_order(customer=customer, lines=[(product, quantity)], **fields)
    return approve_order(order_id=order.pk, actor=None)


def _reserved(order) -> int:
    return sum(Reservation.objects.filter(order_id=order.pk, status="active", kind="firm")
               .values_list("quantity", flat=True))


def _waiting(order) -> list[int]:
    return list(order.lines.order_by("position").values_list("backordered_quantity", flat=True))


def test_approval_reserves_what_is_there_and_backorders_the_rest_of_the_line(mailoutbox):
    product = stocked_product(3)
    order = _backordered(product, 5)
    assert order.status == OrderStatus.BACKORDERED  # ship complete: waits whole
    assert _reserved(order) == 3 and _waiting(order) == [2]
    assert StockLevel.objects.get(product=product).reserved == 3
    assert mailoutbox[-1].subject.endswith("is waiting for stock")
    assert "2 x" in mailoutbox[-1].body and "To follow" in mailoutbox[-1].body
    assert_books_balance()


def test_a_ship_what_is_ready_order_with_some_stock_is_pickable_at_approval(mailoutbox):
    ready, missing = stocked_product(4), stocked_product(0)
    customer = CustomerFactory(accepts_backorder=True, ship_complete=False)
    order = make_order(customer=customer, lines=[(ready, 4), (missing, 2)])
    order = approve_order(order_id=order.pk, actor=None)
    assert order.status == OrderStatus.RESERVED and order.is_pickable
    assert _waiting(order) == [0, 2]
    assert "more items reserved" in mailoutbox[-1].subject
    assert_books_balance()


def test_the_order_overrides_the_customers_choice():
    product = stocked_product(1)
    customer = CustomerFactory(accepts_backorder=True, ship_complete=False)
    order = _backordered(product, 3, customer=customer, ship_complete=True)
    assert order.status == OrderStatus.BACKORDERED


def test_stock_goes_to_the_oldest_waiting_line_first(mailoutbox):
    product = stocked_product(0)
    first = _backordered(product, 3)
    second = _backordered(product, 2)
    Order.objects.filter(pk=first.pk).update(placed_at=timezone.now() - timedelta(hours=1))
    stock(product, StockLevel.objects.get(product=product).warehouse, 4)
    with transaction.atomic():
        assert allocate_waiting(product_ids=[product.pk], actor=None) == 2
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, _reserved(first), _waiting(first)) == ("reserved", 3, [0])
    # the ship-complete second order keeps its one unit and still waits whole
    assert (second.status, _reserved(second), _waiting(second)) == ("backordered", 1, [1])
    assert second.events.filter(kind=EventKind.ALLOCATED).get().data["waiting"] == 1
    assert {m.subject for m in mailoutbox[-2:]} == {
        f"Your order {second.number}: more items reserved",
        f"Your order {first.number} is confirmed"}
    assert_books_balance()


def test_a_higher_priority_order_is_served_before_older_ones():
    product = stocked_product(0)
    older = _backordered(product, 2)
    rush = make_order(customer=CustomerFactory(accepts_backorder=True), lines=[(product, 2)])
    Order.objects.filter(pk=rush.pk).update(priority=5)
    rush = approve_order(order_id=rush.pk, actor=None)
    stock(product, StockLevel.objects.get(product=product).warehouse, 2)
    with transaction.atomic():
        allocate_waiting(actor=None)
    assert Order.objects.get(pk=rush.pk).status == "reserved"
    assert Order.objects.get(pk=older.pk).status == "backordered"
    assert _reserved(older) == 0


def test_only_the_named_products_are_allocated():
    a, b = stocked_product(0), stocked_product(0)
    order_a, order_b = _backordered(a, 1), _backordered(b, 1)
    stock(a, StockLevel.objects.get(product=a).warehouse, 1)
    stock(b, StockLevel.objects.get(product=b).warehouse, 1)
    with transaction.atomic():
        assert allocate_waiting(product_ids=[b.pk], actor=None) == 1
        assert allocate_waiting(product_ids=[], actor=None) == 0
    assert Order.objects.get(pk=order_a.pk).status == "backordered"
    assert Order.objects.get(pk=order_b.pk).status == "reserved"


def test_it_rolls_back_with_the_callers_transaction(mailoutbox):
    product = stocked_product(0)
    order = _backordered(product, 1)
    stock(product, StockLevel.objects.get(product=product).warehouse, 1)
    sent = len(mailoutbox)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert allocate_waiting(actor=None) == 1
        raise RuntimeError("the goods receipt failed after allocating")
    assert Order.objects.get(pk=order.pk).status == "backordered"
    assert _reserved(order) == 0 and _waiting(order) == [1]
    assert len(mailoutbox) == sent
    assert_books_balance()


def test_a_line_is_split_over_warehouses_when_no_one_has_it_all():
    product = stocked_product(2)
    order = _backordered(product, 5)
    stock(product, WarehouseFactory(code="EAST"), 2)
    with transaction.atomic():
        allocate_waiting(actor=None)
    assert _reserved(order) == 4 and _waiting(order) == [1]
    assert Reservation.objects.filter(order_id=order.pk, status="active").count() == 2
    assert_books_balance()


def test_the_sweep_serves_stock_that_arrived_without_a_call(mailoutbox):
    product = stocked_product(0)
    order = _backordered(product, 2)
    assert allocate_backorders() == 0
    stock(product, StockLevel.objects.get(product=product).warehouse, 2)
    assert allocate_backorders() == 1
    assert Order.objects.get(pk=order.pk).status == "reserved"
    assert allocate_backorders() == 0  # nothing waits any more
    assert_books_balance()


def test_it_takes_a_fixed_number_of_statements(django_assert_max_num_queries):
    product = stocked_product(0)
    orders = [_backordered(product, 2) for _ in range(6)]
    stock(product, StockLevel.objects.get(product=product).warehouse, 12)
    with transaction.atomic(), django_assert_max_num_queries(12):
        assert allocate_waiting(actor=None) == 6
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in orders])} == {
        "reserved"}
