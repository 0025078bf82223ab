"""A change of an order racing another change, a pick or a shipment of the
same order, on real PostgreSQL with real threads and separate connections:
one wins, the other gets a clear refusal, and stock, pick lines and the
ledger add up either way."""

from __future__ import annotations

import pytest

from fulfillment import services as fulfillment
from fulfillment.models import PickListLine
from inventory.models import Reservation
from oms.lib.errors import ApplicationError, Conflict, NotAllowed
from orders.inputs import OrderChange
from orders.models import Order, OrderStatus
from orders.services import change_order, preview_order_change
from tests.factories.fulfillment import (
    CarrierServiceFactory,
    packed_order,
    reserved_order,
    shelved_product,
)
from tests.factories.inventory import WarehouseFactory
from tests.inventory.test_ledger import assert_ledger_holds
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)




def _edit(order: Order, quantity: int):
    data = {"lines": [{"line": order.lines.get().pk, "quantity": quantity}]}
    version = preview_order_change(order_id=order.pk, data=OrderChange.parse(data),
                                   actor=None).version
    return lambda: change_order(order_id=order.pk, actor=None,
                                data=OrderChange.parse({**data, "version": version}))


def _reserved(order: Order) -> int:
    return sum(Reservation.objects.filter(order_id=order.pk, status="active")
               .values_list("quantity", flat=True))


def test_two_edits_prepared_on_the_same_order_one_wins_the_other_gets_409():
    warehouse = WarehouseFactory(code="MAIN")
    product = shelved_product(warehouse, 500)
    for _attempt in range(5):
        order = reserved_order([(product, 2)])
        results = run_together(_edit(order, 3), _edit(order, 5))
        won = [r for r in results if isinstance(r, Order)]
        lost = [r for r in results if isinstance(r, Exception)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], Conflict) and lost[0].status == 409, lost
        assert "changed while you were editing" in lost[0].message
        quantity = order.lines.get().quantity
        assert quantity in (3, 5) and _reserved(order) == quantity
    assert_ledger_holds([product], [warehouse])


def test_an_edit_racing_a_pick_of_the_same_line():
    warehouse = WarehouseFactory(code="MAIN")
    product = shelved_product(warehouse, 500, bin_code="A-1")
    outcomes = set()
    for _attempt in range(6):
        order = reserved_order([(product, 5)])
        pick_list = fulfillment.create_pick_list(warehouse_id=warehouse.pk,
                                                 order_ids=[order.pk], actor=None)
        edit = _edit(order, 2)
        results = run_together(edit, lambda p=pick_list: fulfillment.confirm_pick(
            pick_list_id=p.pk, data=fulfillment.PickScan(sku=product.sku, quantity=4),
            actor=None))
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(failed) == 1, results
        line = order.lines.get()
        pick_line = PickListLine.objects.get(pick_list=pick_list)
        if isinstance(results[0], Exception):  # the pick came first: the edit is stale
            assert isinstance(results[0], Conflict), results
            assert (line.quantity, pick_line.quantity_picked) == (5, 4)
            outcomes.add("pick first")
        else:  # the edit came first: only 2 are left to pick
            assert isinstance(results[1], ApplicationError), results
            assert "Only 2" in results[1].message
            assert (line.quantity, pick_line.quantity, pick_line.quantity_picked) == (2, 2, 0)
            outcomes.add("edit first")
        assert pick_line.quantity_picked <= line.quantity == _reserved(order)
    assert outcomes  # each run ended in one of the two orders
    assert_ledger_holds([product], [warehouse])


def test_an_edit_racing_the_shipment_never_changes_a_shipped_order():
    warehouse = WarehouseFactory(code="MAIN")
    product = shelved_product(warehouse, 500, bin_code="A-1")
    extra = shelved_product(warehouse, 500, bin_code="A-2")
    service = CarrierServiceFactory()
    for attempt in range(5):
        order, shipment = packed_order([(product, 2)], warehouse=warehouse)
        data = {"lines": [{"sku": extra.sku, "quantity": 1}]}
        version = preview_order_change(order_id=order.pk, data=OrderChange.parse(data),
                                       actor=None).version
        results = run_together(
            lambda o=order, d=data, v=version: change_order(
                order_id=o.pk, actor=None, data=OrderChange.parse({**d, "version": v})),
            lambda s=shipment, n=attempt: fulfillment.ship(
                shipment_id=s.pk, data=fulfillment.Handover.parse(
                    carrier_service_id=service.pk, tracking_number=f"EDIT-RACE-{n}"),
                actor=None))
        order.refresh_from_db()
        if isinstance(results[0], Exception):  # shipped first: no edit after shipment
            assert isinstance(results[0], NotAllowed) and results[0].status == 409, results
            # Shipped (billing may have invoiced it already), and never changed.
            assert not order.is_editable and order.lines.count() == 1
        else:  # edited first: the added unit stays reserved for a later part
            assert not isinstance(results[1], Exception), results
            assert order.status == OrderStatus.RESERVED and order.lines.count() == 2
            assert _reserved(order) == 1
    assert_ledger_holds([product, extra], [warehouse])
