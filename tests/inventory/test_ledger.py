"""The ledger invariant: for every product and warehouse, on_hand equals the
sum of its stock movements, reserved equals the sum of its active
reservations, and 0 <= reserved <= on_hand, after any sequence of receipts,
adjustments, reservations, confirmations, releases, expiries, shipments
(whole or short picked), transfers between warehouses, cycle counts,
customer returns restocked, and picked units put back on the shelf (an
unpick) before the order's line shrinks."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fulfillment import services as fulfillment_services
from fulfillment.inputs import Unpick
from fulfillment.models import PickListLine
from inventory import api
from inventory.counts import CountEntry, StartCount, confirm_count, enter_count, start_count
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import adjust_stock, receive_stock
from inventory.transfers import TransferStock, transfer_stock
from oms.lib.errors import ApplicationError
from orders.inputs import LineChange, OrderChange
from orders.services import change_order
from tests.factories.fulfillment import picked_order, shelved_product
from tests.factories.inventory import ProductFactory, WarehouseFactory

ORDERS = st.integers(min_value=1, max_value=6)
OPERATIONS = st.one_of(
    st.tuples(st.just("receive"), st.integers(0, 1), st.integers(0, 1),
              st.integers(-2, 15)),
    st.tuples(st.just("adjust"), st.integers(0, 1), st.integers(0, 1), st.integers(-12, 8)),
    st.tuples(st.just("reserve"), ORDERS, st.integers(0, 1), st.integers(-1, 12)),
    st.tuples(st.just("confirm"), ORDERS, st.just(0), st.just(0)),
    st.tuples(st.just("release"), ORDERS, st.just(0), st.just(0)),
    st.tuples(st.just("consume"), ORDERS, st.just(0), st.just(0)),
    # A short pick: only `quantity` units of each line leave.
    st.tuples(st.just("consume_short"), ORDERS, st.just(0), st.integers(-1, 12)),
    st.tuples(st.just("expire"), st.just(0), st.just(0), st.just(0)),
    # Product a from warehouse b to the other one.
    st.tuples(st.just("transfer"), st.integers(0, 1), st.integers(0, 1), st.integers(-1, 12)),
    # A count of product a in warehouse b finding `quantity` units.
    st.tuples(st.just("count"), st.integers(0, 1), st.integers(0, 1), st.integers(-1, 12)),
    # A customer return of product a restocked into warehouse b.
    st.tuples(st.just("return"), st.integers(0, 1), st.integers(0, 1), st.integers(-1, 6)),
)


def assert_ledger_holds(products, warehouses) -> None:
    for product in products:
        for warehouse in warehouses:
            level = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
            ledger = StockMovement.objects.filter(product=product, warehouse=warehouse).aggregate(
                total=Sum("quantity"))["total"] or 0
            held = Reservation.objects.filter(
                product=product, warehouse=warehouse, status="active").aggregate(
                total=Sum("quantity"))["total"] or 0
            on_hand = level.on_hand if level else 0
            reserved = level.reserved if level else 0
            assert on_hand == ledger
            assert reserved == held
            assert 0 <= reserved <= on_hand


def state() -> tuple:
    return (sorted(StockLevel.objects.values_list("pk", "on_hand", "reserved")),
            sorted(Reservation.objects.values_list("pk", "status", "kind")),
            StockMovement.objects.count())


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=25))
def test_stock_levels_always_equal_the_ledger(db, operations):
    # Fresh rows per example: hypothesis runs many examples in one test transaction.
    products = [ProductFactory(), ProductFactory()]
    warehouses = [WarehouseFactory(), WarehouseFactory()]
    order_base = products[0].pk * 100
    clock = timezone.now()

    for name, a, b, quantity in operations:
        before = state()
        try:
            if name == "receive":
                receive_stock(product=products[a], warehouse=warehouses[b], quantity=quantity,
                              actor=None)
            elif name == "adjust":
                adjust_stock(product=products[a], warehouse=warehouses[b], quantity=quantity,
                             reason="count", actor=None)
            elif name == "reserve":
                order_id = order_base + a
                api.reserve(order_id=order_id,
                            lines=[api.LineRequest(order_id * 10 + b, products[b].pk, quantity)],
                            hold_minutes=30, actor_id=None)
            elif name == "confirm":
                api.confirm(order_id=order_base + a, actor_id=None)
            elif name == "release":
                api.release(order_id=order_base + a, reason="test", actor_id=None)
            elif name == "consume":
                api.consume(order_id=order_base + a, warehouse_id=None, actor_id=None,
                            reference="ship")
            elif name == "consume_short":
                order_id = order_base + a
                api.consume(order_id=order_id, warehouse_id=None, actor_id=None,
                            reference="ship", shipped={order_id * 10: quantity,
                                                       order_id * 10 + 1: quantity})
            elif name == "transfer":
                transfer_stock(TransferStock.parse({
                    "product": products[a].pk, "from_warehouse": warehouses[b].pk,
                    "to_warehouse": warehouses[1 - b].pk, "quantity": quantity}), actor=None)
            elif name == "return":
                api.return_stock(product_id=products[a].pk, warehouse_id=warehouses[b].pk,
                                 quantity=quantity, reference="R-TEST", actor_id=None)
            elif name == "count":
                count = start_count(StartCount.parse({"warehouse": warehouses[b].pk}),
                                    actor=None)
                before = state()  # an open count changes no stock
                enter_count(CountEntry.parse({"sku": products[a].sku, "quantity": quantity}),
                            count_id=count.pk, actor=None)
                confirm_count(count_id=count.pk, actor=None)
            else:
                clock += timedelta(minutes=31)
                api.expire_lapsed_holds(now=clock)
        except ApplicationError:
            # A refusal writes nothing at all.
            assert state() == before
        assert_ledger_holds(products, warehouses)


def test_the_ledger_holds_through_a_pick_an_unpick_and_the_shrink_that_follows(db):
    """Picking and unpicking move no stock (the units stay the order's, no
    ledger row); the change that follows releases them through the ledger's
    rules."""
    warehouse = WarehouseFactory()
    product = shelved_product(warehouse, 20, bin_code="L-1")
    order, _pick_list = picked_order([(product, 5)], warehouse)
    assert_ledger_holds([product], [warehouse])
    rows = StockMovement.objects.count()
    pick_line = PickListLine.objects.get(order=order)
    fulfillment_services.unpick(pick_line_id=pick_line.pk, data=Unpick(quantity=3), actor=None)
    assert_ledger_holds([product], [warehouse])
    assert StockMovement.objects.count() == rows
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == 5
    change_order(order_id=order.pk, actor=None, data=OrderChange(
        lines=[LineChange(line=order.lines.get().pk, quantity=2)]))
    assert_ledger_holds([product], [warehouse])
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (20, 2)
