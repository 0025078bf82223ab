"""Ship what is ready, the rest follows: partial shipments, short picks that
go back to allocation, cancelling a line's backordered rest, and the race of
a short pick with that cancel (real threads). After each scenario the stock
books balance and every unit of every line is shipped, reserved, waiting or
cancelled."""

from __future__ import annotations

import threading
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection, transaction

from billing.models import Invoice
from fulfillment import services
from fulfillment.models import Shipment
from inventory.models import Reservation, StockLevel, StockMovement
from oms.lib.errors import NotAllowed
from orders.models import EventKind, Order, OrderStatus
from orders.services import allocate_waiting, approve_order, cancel_backordered_rest
from tests.factories.customers import CustomerFactory
from tests.factories.fulfillment import CarrierServiceFactory, shelved_product
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import make_order
from tests.orders.allocation_support import assert_books_balance

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def main():
    return WarehouseFactory(code="MAIN")


def _order(lines, *, ship_complete=False):
    customer = CustomerFactory(accepts_backorder=True, ship_complete=ship_complete)
    order = make_order(customer=customer, lines=lines)
    return approve_order(order_id=order.pk, actor=None)


def _pick(order, warehouse, *, found: dict[str, int] | None = None):
    """A pick list for the order in `warehouse`; every unit found unless
    `found` (sku -> units) says otherwise; completed."""
    pick_list = services.create_pick_list(warehouse_id=warehouse.pk, order_ids=[order.pk],
                                          actor=None)
    for line in pick_list.lines.all():
        quantity = line.quantity if found is None else found.get(line.sku, line.quantity)
        if quantity:
            services.confirm_pick(pick_list_id=pick_list.pk,
                                  data=services.PickScan(sku=line.sku, quantity=quantity),
                                  actor=None)
    services.complete_pick_list(pick_list_id=pick_list.pk, actor=None)
    return pick_list


def _pack_and_ship(order, warehouse, tracking):
    shipment = services.pack(order_id=order.pk, warehouse_id=warehouse.pk,
                             data=services.Packing.parse(package_type="box", weight="1"),
                             actor=None)
    return services.ship(shipment_id=shipment.pk, actor=None, data=services.Handover(
        carrier_service=CarrierServiceFactory(), tracking_number=tracking))


def test_the_ready_part_ships_and_the_rest_follows_in_a_second_shipment(main, mailoutbox):
    ready = shelved_product(main, 4, bin_code="A-1", sku="READY", unit_price=Decimal("10.00"))
    later = shelved_product(main, 0, bin_code="A-2", sku="LATER", unit_price=Decimal("5.00"))
    order = _order([(ready, 4), (later, 2)])
    assert order.status == OrderStatus.RESERVED

    _pick(order, main)
    _pack_and_ship(order, main, "T-1")
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED  # a part left; the rest waits
    shipped_mail = [m for m in mailoutbox if "on its way" in m.subject][-1]
    assert "To follow" in shipped_mail.body and "2 x" in shipped_mail.body
    assert not Invoice.objects.filter(order=order).exists()  # invoiced at the end
    assert_books_balance()

    stock(later, main, 2)
    with transaction.atomic():
        assert allocate_waiting(product_ids=[later.pk], actor=None) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED
    _pick(order, main)
    _pack_and_ship(order, main, "T-2")
    order.refresh_from_db()
    # shipped, and billing invoiced all of it at once on "order.shipped"
    assert order.status == OrderStatus.INVOICED
    assert Shipment.objects.filter(order=order, status="shipped").count() == 2
    assert Invoice.objects.get(order=order).total_net == Decimal("50.00")
    assert_books_balance()


def test_a_ship_complete_order_waits_whole(main):
    ready = shelved_product(main, 4, bin_code="A-1")
    later = shelved_product(main, 0, bin_code="A-2")
    order = _order([(ready, 4), (later, 2)], ship_complete=True)
    assert order.status == OrderStatus.BACKORDERED and not order.is_pickable
    with pytest.raises(NotAllowed):
        services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk], actor=None)
    assert_books_balance()


def test_units_short_at_picking_are_reserved_in_another_warehouse(main, mailoutbox):
    product = shelved_product(main, 5, bin_code="A-1", sku="SPLIT")
    order = _order([(product, 5)])
    east = WarehouseFactory(code="EAST")
    stock(product, east, 10)
    _pick(order, main, found={"SPLIT": 3})
    line = order.lines.get()
    assert line.backordered_quantity == 0  # not "to follow": reserved in EAST
    assert list(Reservation.objects.filter(order_id=order.pk, status="active")
                .values_list("warehouse__code", "quantity").order_by("warehouse__code")) == [
        ("EAST", 2), ("MAIN", 3)]
    # MAIN's shelf had two units fewer than the books said: written off there.
    main_level = StockLevel.objects.get(product=product, warehouse=main)
    assert (main_level.on_hand, main_level.reserved) == (3, 3)
    assert StockMovement.objects.filter(warehouse=main, kind="adjustment", quantity=-2).exists()
    assert_books_balance()

    _pick(order, east)
    _pack_and_ship(order, main, "T-MAIN")
    _pack_and_ship(order, east, "T-EAST")
    order.refresh_from_db()
    assert order.status == OrderStatus.INVOICED
    assert Invoice.objects.get(order=order).lines.get().quantity == 5
    assert_books_balance()


def test_units_short_everywhere_wait_and_the_customer_is_told_at_once(main, mailoutbox):
    product = shelved_product(main, 5, bin_code="A-1", sku="GONE")
    order = _order([(product, 5)])
    _pick(order, main, found={"GONE": 3})
    assert order.lines.get().backordered_quantity == 2
    assert mailoutbox[-1].subject.endswith("is waiting for stock")
    _pack_and_ship(order, main, "T-1")
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED  # nothing left in a dead end
    stock(product, main, 2)
    with transaction.atomic():
        allocate_waiting(actor=None)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED
    assert_books_balance()


def test_cancelling_the_backordered_rest_ends_a_partly_shipped_order(main, mailoutbox):
    product = shelved_product(main, 3, bin_code="A-1", unit_price=Decimal("10.00"))
    order = _order([(product, 5)])
    _pick(order, main)
    _pack_and_ship(order, main, "T-1")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.BACKORDERED

    order = cancel_backordered_rest(order_id=order.pk, line_id=order.lines.get().pk,
                                    actor=None, reason="customer found it elsewhere")
    line = order.lines.get()
    assert (line.backordered_quantity, line.cancelled_quantity) == (0, 2)
    assert order.status == OrderStatus.SHIPPED
    assert order.total_net == Decimal("30.00")
    assert order.events.filter(kind=EventKind.LINE_CANCELLED).get().data["quantity"] == 2
    (mail,) = [m for m in mailoutbox if m.subject.endswith("an item was cancelled")]
    assert "customer found it" in mail.body and "€36.00" in mail.body  # the new total
    # billing invoiced the shipped units on "order.shipped"
    assert Invoice.objects.get(order=order).total_net == Decimal("30.00")
    with pytest.raises(NotAllowed):  # nothing waits any more
        cancel_backordered_rest(order_id=order.pk, line_id=line.pk, actor=None)
    assert_books_balance()


def test_cancelling_the_only_waiting_line_of_a_ship_complete_order_releases_the_rest(main):
    ready = shelved_product(main, 1, bin_code="A-1")
    later = shelved_product(main, 0, bin_code="A-2")
    order = _order([(ready, 1), (later, 1)], ship_complete=True)
    waiting = order.lines.get(product=later)
    order = cancel_backordered_rest(order_id=order.pk, line_id=waiting.pk, actor=None)
    assert order.status == OrderStatus.RESERVED and order.is_pickable
    assert_books_balance()


def _together(*calls) -> list[Exception]:
    """Run the calls at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(calls))
    errors: list[Exception] = []

    def run(call) -> None:
        try:
            barrier.wait()
            call()
        except Exception as exc:  # the caller asserts there is none
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_a_short_pick_and_a_cancel_of_the_same_line_never_lose_a_unit(main):
    """The picker closes a short pick list while Sales cancel the line's
    backordered rest: both lock the order row first, so one waits for the
    other and each sees what the other wrote."""
    for _round in range(3):
        product = shelved_product(main, 3, bin_code="A-1", sku=f"RACE{_round}")
        order = _order([(product, 5)])  # 3 reserved, 2 backordered
        line = order.lines.get()
        pick_list = services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk],
                                              actor=None)
        services.confirm_pick(pick_list_id=pick_list.pk,
                              data=services.PickScan(sku=product.sku, quantity=1), actor=None)
        assert _together(
            partial(services.complete_pick_list, pick_list_id=pick_list.pk, actor=None),
            partial(cancel_backordered_rest, order_id=order.pk, line_id=line.pk, actor=None),
        ) == []
        line.refresh_from_db()
        # Cancel first: 2 cancelled, the 2 short units wait afresh; short pick
        # first: the cancel drops all 4 waiting units.
        assert (line.cancelled_quantity, line.backordered_quantity) in {(2, 2), (4, 0)}
        assert_books_balance()


def test_the_packing_slip_says_what_follows_and_when(main, monkeypatch):
    from datetime import date

    from fulfillment import documents
    from orders import selectors as order_selectors
    from tests.fulfillment.test_documents import _text

    ready = shelved_product(main, 2, bin_code="A-1", sku="SLIP-READY")
    dated = shelved_product(main, 0, bin_code="A-2", sku="SLIP-DATED")
    undated = shelved_product(main, 0, bin_code="A-3", sku="SLIP-UNDATED")
    # Purchasing says when SLIP-DATED arrives; nobody knows for SLIP-UNDATED.
    monkeypatch.setattr(order_selectors, "_expected_arrivals",
                        lambda ids: {dated.pk: date(2027, 1, 15)} if dated.pk in ids else {})
    order = _order([(ready, 2), (dated, 3), (undated, 1)])
    _pick(order, main)
    shipment = services.pack(order_id=order.pk, warehouse_id=main.pk,
                             data=services.Packing.parse(package_type="box", weight="1"),
                             actor=None)
    slip = _text(documents.packing_slip_pdf(shipment_id=shipment.pk))
    contents, follow = slip.split("To follow")
    assert "SLIP-READY" in contents and "SLIP-DATED" not in contents
    assert "SLIP-READY" not in follow
    assert "SLIP-DATED" in follow and "expected 15 January 2027" in follow
    assert "SLIP-UNDATED" in follow and "we will tell you" in follow
