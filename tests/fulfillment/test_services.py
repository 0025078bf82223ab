"""Pick, pack, ship and deliver through the services, on real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.services import invoice_shipped_order
from fulfillment import services
from fulfillment.models import PickList, PickListLine, Shipment
from inventory.models import Reservation, StockLevel, StockMovement
from oms.lib.errors import ApplicationError, NotAllowed
from oms.models import OutboxMessage
from orders.models import EventKind, OrderStatus
from orders.services import cancel_backordered_rest, cancel_order
from tests.factories.fulfillment import (
    CarrierServiceFactory,
    packed_order,
    picked_order,
    reserved_order,
    shelved_product,
)
from tests.factories.inventory import WarehouseFactory, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def main():
    return WarehouseFactory(code="MAIN")


def test_batch_pick_list_groups_lines_by_product_sorted_by_bin(main):
    far = shelved_product(main, bin_code="C-09-1", sku="FAR")
    near = shelved_product(main, bin_code="A-01-1", sku="NEAR")
    middle = shelved_product(main, bin_code="B-05-2", sku="MID")
    first = reserved_order([(far, 1), (near, 2)])
    second = reserved_order([(near, 3), (middle, 1)])
    third = reserved_order([(far, 4)])

    pick_list = services.create_pick_list(
        warehouse_id=main.pk, order_ids=[third.pk, first.pk, second.pk], actor=None)

    walk = [(line.bin_code, line.sku, line.order_id, line.quantity)
            for line in pick_list.lines.all()]
    assert walk == [("A-01-1", "NEAR", first.pk, 2), ("A-01-1", "NEAR", second.pk, 3),
                    ("B-05-2", "MID", second.pk, 1),
                    ("C-09-1", "FAR", first.pk, 1), ("C-09-1", "FAR", third.pk, 4)]
    for order in (first, second, third):
        order.refresh_from_db()
        assert order.status == OrderStatus.PICKING
        assert order.events.filter(to_status="picking").exists()


def test_pick_list_refuses_orders_not_reserved(main):
    product = shelved_product(main)
    picking, _pick_list = picked_order([(product, 1)], main)
    with pytest.raises(NotAllowed):
        services.create_pick_list(warehouse_id=main.pk, order_ids=[picking.pk], actor=None)


def test_an_order_is_not_listed_twice_in_one_warehouse(main):
    order = reserved_order([(shelved_product(main), 1)])
    services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk], actor=None)
    with pytest.raises(NotAllowed):
        services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk], actor=None)


def test_confirm_pick_fills_lines_of_the_scanned_sku_in_walk_order(main):
    product = shelved_product(main, bin_code="A-1", sku="SCAN-ME")
    first = reserved_order([(product, 2)])
    second = reserved_order([(product, 3)])
    pick_list = services.create_pick_list(warehouse_id=main.pk,
                                          order_ids=[first.pk, second.pk], actor=None)
    services.confirm_pick(pick_list_id=pick_list.pk,
                          data=services.PickScan(sku="scan-me", quantity=3), actor=None)
    lines = list(pick_list.lines.order_by("order_id"))
    assert [(li.quantity_picked, li.status) for li in lines] == [(2, "picked"), (1, "open")]
    with pytest.raises(ApplicationError) as refused:
        services.confirm_pick(pick_list_id=pick_list.pk,
                              data=services.PickScan(sku="SCAN-ME", quantity=3), actor=None)
    assert "quantity" in refused.value.field_errors
    with pytest.raises(ApplicationError) as unknown:
        services.confirm_pick(pick_list_id=pick_list.pk,
                              data=services.PickScan(sku="NOPE", quantity=1), actor=None)
    assert unknown.value.code == "unknown_sku"


def test_short_pick_backorders_the_missing_quantity_with_an_event(main, make_user):
    picker = make_user("Warehouse")
    product = shelved_product(main, bin_code="A-1")
    order = reserved_order([(product, 5)])
    pick_list = services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk],
                                          actor=picker)
    services.confirm_pick(pick_list_id=pick_list.pk,
                          data=services.PickScan(sku=product.sku, quantity=3), actor=picker)

    services.complete_pick_list(pick_list_id=pick_list.pk, actor=picker)

    line = order.lines.get()
    assert line.backordered_quantity == 2
    event = order.events.get(kind=EventKind.STOCK)
    assert event.data["short_pick"] == {str(line.pk): 2} and event.actor == picker
    pick_line = pick_list.lines.get()
    assert (pick_line.status, pick_line.quantity_picked) == ("short", 3)
    assert PickList.objects.get(pk=pick_list.pk).status == "done"
    shipment = services.pack(order_id=order.pk, warehouse_id=main.pk,
                             data=services.Packing.parse(package_type="box", weight="2"),
                             actor=picker)
    assert shipment.lines.get().quantity == 3


def test_pack_then_ship_consumes_stock_with_a_ledger_row(main):
    product = shelved_product(main, 10, bin_code="A-1", is_fragile=True)
    order, pick_list = picked_order([(product, 4)], main)
    shipment = services.pack(order_id=order.pk, warehouse_id=main.pk,
                             data=services.Packing.parse(package_type="crate", weight="3,250"),
                             actor=None)
    order.refresh_from_db()
    assert order.status == OrderStatus.PACKED
    assert shipment.weight_kg == Decimal("3.250") and shipment.lines.get().is_fragile
    service = CarrierServiceFactory(price=Decimal("6.90"))

    services.ship(shipment_id=shipment.pk,
                  data=services.Handover.parse(carrier_service_id=service.pk,
                                               tracking_number="TRK-1", shipping_cost=""),
                  actor=None)

    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and order.shipped_at is not None
    assert shipment.status == "shipped" and shipment.shipping_cost == Decimal("6.90")
    level = StockLevel.objects.get(product=product, warehouse=main)
    assert (level.on_hand, level.reserved) == (6, 0)
    movement = StockMovement.objects.get(product=product, kind="shipment")
    assert movement.quantity == -4 and order.number in movement.reference
    assert Reservation.objects.get(order_id=order.pk).status == "consumed"
    email = OutboxMessage.objects.get(handler="orders.send_order_email",
                                      payload__kind="shipped")
    assert email.payload["extra"]["tracking_number"] == "TRK-1"
    assert email.payload["extra"]["tracking_url"] == "https://track.example/?n=TRK-1"


def test_shipping_a_short_pick_ships_only_the_picked_units(main):
    product = shelved_product(main, 10, bin_code="A-1", unit_price=Decimal("10.00"))
    before = StockLevel.objects.get(product=product, warehouse=main).reserved
    order = reserved_order([(product, 5)])
    pick_list = services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk],
                                          actor=None)
    services.confirm_pick(pick_list_id=pick_list.pk,
                          data=services.PickScan(sku=product.sku, quantity=3), actor=None)
    services.complete_pick_list(pick_list_id=pick_list.pk, actor=None)
    shipment = services.pack(order_id=order.pk, warehouse_id=main.pk,
                             data=services.Packing.parse(package_type="box", weight="2"),
                             actor=None)

    services.ship(shipment_id=shipment.pk,
                  data=services.Handover.parse(carrier_service_id=CarrierServiceFactory().pk,
                                               tracking_number="TRK-SHORT"),
                  actor=None)

    # The two units not found were written off when the pick list closed.
    level = StockLevel.objects.get(product=product, warehouse=main)
    assert (level.on_hand, level.reserved) == (5, before)
    movement = StockMovement.objects.get(product=product, kind="shipment")
    assert movement.quantity == -3
    assert StockMovement.objects.get(product=product, kind="adjustment").quantity == -2
    line = order.lines.get()
    assert sorted(Reservation.objects.filter(order_id=order.pk).values_list(
        "order_line_id", "status", "quantity", "status_reason")) == [
        (line.pk, "consumed", 3, f"{order.number}/{shipment}"),
        (line.pk, "released", 2, "short pick")]
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED  # the two units follow
    order = cancel_backordered_rest(order_id=order.pk, line_id=line.pk, actor=None)
    assert order.status == OrderStatus.SHIPPED
    invoice = invoice_shipped_order(order_id=order.pk)
    assert invoice.lines.get().quantity == 3


def test_a_line_short_in_one_warehouse_ships_whole_from_the_other(main):
    other = WarehouseFactory(code="WEST")
    product = shelved_product(main, 3, bin_code="A-1")
    stock(product, other, 2)
    order = reserved_order([(product, 5)])
    assert sorted(Reservation.objects.filter(order_id=order.pk).values_list(
        "warehouse_id", "quantity")) == sorted([(main.pk, 3), (other.pk, 2)])
    shipments = {}
    for warehouse, found in ((main, 3), (other, 1)):
        pick_list = services.create_pick_list(warehouse_id=warehouse.pk,
                                              order_ids=[order.pk], actor=None)
        services.confirm_pick(pick_list_id=pick_list.pk,
                              data=services.PickScan(sku=product.sku, quantity=found), actor=None)
        services.complete_pick_list(pick_list_id=pick_list.pk, actor=None)
        shipments[warehouse.code] = services.pack(order_id=order.pk, warehouse_id=warehouse.pk,
                                                  data=services.Packing.parse(package_type="box",
                                                                              weight="1"),
                                                  actor=None)
    service = CarrierServiceFactory()
    for code, shipment in shipments.items():
        services.ship(shipment_id=shipment.pk,
                      data=services.Handover.parse(carrier_service_id=service.pk,
                                                   tracking_number=f"TRK-{code}"),
                      actor=None)

    assert order.lines.get().backordered_quantity == 1
    # WEST's shelf lacked the unit the books promised: written off at the pick.
    assert [(lv.on_hand, lv.reserved) for lv in (
        StockLevel.objects.get(product=product, warehouse=main),
        StockLevel.objects.get(product=product, warehouse=other))] == [(0, 0), (0, 0)]
    assert list(StockMovement.objects.filter(kind="adjustment").values_list(
        "warehouse_id", "quantity")) == [(other.pk, -1)]
    assert sorted(StockMovement.objects.filter(kind="shipment").values_list(
        "warehouse_id", "quantity")) == sorted([(main.pk, -3), (other.pk, -1)])
    assert sorted(Reservation.objects.filter(order_id=order.pk).values_list(
        "warehouse_id", "status", "quantity")) == sorted([
            (main.pk, "consumed", 3), (other.pk, "consumed", 1), (other.pk, "released", 1)])


def test_ship_refuses_bad_input_and_duplicate_tracking(main):
    service = CarrierServiceFactory()
    order, shipment = packed_order(warehouse=main)
    with pytest.raises(ApplicationError) as refused:
        services.ship(shipment_id=shipment.pk,
                      data=services.Handover.parse(carrier_service_id=None, tracking_number="",
                                                   shipping_cost="-1"),
                      actor=None)
    assert set(refused.value.field_errors) == {"carrier_service", "tracking_number",
                                               "shipping_cost"}
    other_order, other = packed_order(warehouse=main)
    services.ship(shipment_id=other.pk,
                  data=services.Handover.parse(carrier_service_id=service.pk,
                                               tracking_number="SAME"),
                  actor=None)
    with pytest.raises(ApplicationError) as duplicate:
        services.ship(shipment_id=shipment.pk,
                      data=services.Handover.parse(carrier_service_id=service.pk,
                                                   tracking_number="SAME"),
                      actor=None)
    assert "tracking_number" in duplicate.value.field_errors
    shipment.refresh_from_db()
    assert shipment.status == "packed"
    assert Reservation.objects.get(order_id=order.pk).status == "active"


def test_two_warehouse_order_ships_as_two_shipments_and_is_shipped_when_both_are():
    north = WarehouseFactory(code="NORTH")
    south = WarehouseFactory(code="SOUTH")
    only_north = shelved_product(north, 5, bin_code="N-1")
    only_south = shelved_product(south, 5, bin_code="S-1")
    order = reserved_order([(only_north, 2), (only_south, 1)])
    service = CarrierServiceFactory()
    shipments = []
    for warehouse in (north, south):
        pick_list = services.create_pick_list(warehouse_id=warehouse.pk,
                                              order_ids=[order.pk], actor=None)
        line = pick_list.lines.get()
        services.confirm_pick(pick_list_id=pick_list.pk,
                              data=services.PickScan(sku=line.sku, quantity=line.quantity),
                              actor=None)
        services.complete_pick_list(pick_list_id=pick_list.pk, actor=None)
        shipments.append(services.pack(order_id=order.pk, warehouse_id=warehouse.pk,
                                       data=services.Packing.parse(package_type="box", weight=1),
                                       actor=None))
    order.refresh_from_db()
    assert order.status == OrderStatus.PACKED

    services.ship(shipment_id=shipments[0].pk,
                  data=services.Handover.parse(carrier_service_id=service.pk,
                                               tracking_number="N-TRK"),
                  actor=None)
    order.refresh_from_db()
    assert order.status == OrderStatus.PACKED
    with pytest.raises(NotAllowed):  # half of it left already
        cancel_order(order_id=order.pk, actor=None, reason="too late")

    services.ship(shipment_id=shipments[1].pk,
                  data=services.Handover.parse(carrier_service_id=service.pk,
                                               tracking_number="S-TRK"),
                  actor=None)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert {s.warehouse_id for s in Shipment.objects.filter(order=order)} == {north.pk, south.pk}
    assert order.events.filter(to_status="shipped").count() == 1


def test_order_is_packed_only_when_every_warehouse_has_packed():
    north = WarehouseFactory(code="NORTH")
    south = WarehouseFactory(code="SOUTH")
    order = reserved_order([(shelved_product(north, 5), 1), (shelved_product(south, 5), 1)])
    pick_list = services.create_pick_list(warehouse_id=north.pk, order_ids=[order.pk],
                                          actor=None)
    line = pick_list.lines.get()
    services.confirm_pick(pick_list_id=pick_list.pk,
                          data=services.PickScan(sku=line.sku, quantity=1), actor=None)
    services.complete_pick_list(pick_list_id=pick_list.pk, actor=None)
    services.pack(order_id=order.pk, warehouse_id=north.pk,
                  data=services.Packing.parse(package_type="box", weight=1), actor=None)
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKING
    with pytest.raises(NotAllowed):  # nothing picked in the south yet
        services.pack(order_id=order.pk, warehouse_id=south.pk,
                      data=services.Packing.parse(package_type="box", weight=1), actor=None)


def test_pack_refuses_an_unfinished_pick_list_and_a_second_package(main):
    order = reserved_order([(shelved_product(main), 1)])
    services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk], actor=None)
    with pytest.raises(NotAllowed) as still_picking:
        services.pack(order_id=order.pk, warehouse_id=main.pk,
                      data=services.Packing.parse(package_type="box", weight=1), actor=None)
    assert still_picking.value.code == "still_picking"
    packed, _shipment = packed_order(warehouse=main)
    with pytest.raises(NotAllowed):
        services.pack(order_id=packed.pk, warehouse_id=main.pk,
                      data=services.Packing.parse(package_type="box", weight=1), actor=None)
    with pytest.raises(ApplicationError) as bad:
        services.pack(order_id=order.pk, warehouse_id=main.pk,
                      data=services.Packing.parse(package_type="bag", weight=0), actor=None)
    assert set(bad.value.field_errors) == {"package_type", "weight"}


def test_delivery_by_hand_only_for_shipped_shipments(main, make_user):
    clerk = make_user("Warehouse")
    _order, shipment = packed_order(warehouse=main)
    with pytest.raises(NotAllowed):
        services.confirm_delivery(shipment_id=shipment.pk, actor=clerk)
    services.ship(shipment_id=shipment.pk,
                  data=services.Handover.parse(carrier_service_id=CarrierServiceFactory().pk,
                                               tracking_number="T-1"),
                  actor=clerk)
    services.confirm_delivery(shipment_id=shipment.pk, actor=clerk, note="signed by J.")
    shipment.refresh_from_db()
    assert shipment.status == "delivered" and shipment.delivered_at is not None
    event = shipment.events.get()
    assert (event.source, event.status, event.actor) == ("staff", "delivered", clerk)


def test_cancelling_an_order_drops_its_open_pick_lines_and_packed_shipment(
        main, django_capture_on_commit_callbacks):
    product = shelved_product(main, 10)
    listed = reserved_order([(product, 1)])
    kept = reserved_order([(product, 2)])
    pick_list = services.create_pick_list(warehouse_id=main.pk,
                                          order_ids=[listed.pk, kept.pk], actor=None)
    packed, shipment = packed_order(warehouse=main)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order_id=listed.pk, actor=None, reason="customer changed mind")
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order_id=packed.pk, actor=None, reason="customer changed mind")
    assert pick_list.lines.get(order=listed).status == PickListLine.Status.CANCELLED
    assert pick_list.lines.get(order=kept).status == PickListLine.Status.OPEN
    shipment.refresh_from_db()
    assert shipment.status == "cancelled"
    level = StockLevel.objects.get(product=product, warehouse=main)
    assert level.reserved == 2  # only `kept` still holds stock
    assert OutboxMessage.objects.filter(handler="fulfillment.order_cancelled",
                                        status="done").count() == 2


def test_finishing_a_list_skips_lines_of_an_order_cancelled_meanwhile(main):
    product = shelved_product(main, 10)
    cancelled = reserved_order([(product, 2)])
    kept = reserved_order([(product, 1)])
    pick_list = services.create_pick_list(warehouse_id=main.pk,
                                          order_ids=[cancelled.pk, kept.pk], actor=None)
    # The subscriber has not run yet (no commit in this test): its line is still open.
    cancel_order(order_id=cancelled.pk, actor=None, reason="changed mind")
    services.complete_pick_list(pick_list_id=pick_list.pk, actor=None)
    assert pick_list.lines.get(order=cancelled).status == PickListLine.Status.CANCELLED
    assert pick_list.lines.get(order=kept).status == PickListLine.Status.SHORT
    assert not cancelled.events.filter(kind=EventKind.STOCK).exists()
    assert kept.lines.get().backordered_quantity == 1


def test_carrier_update_with_unknown_status_or_tracking_is_refused(main):
    with pytest.raises(services.ShipmentNotFound):
        services.record_carrier_event(services.CarrierEvent(
            carrier_code="UPS", tracking_number="NOPE", status="delivered"))
    with pytest.raises(ApplicationError) as refused:
        services.record_carrier_event(services.CarrierEvent(
            carrier_code="UPS", tracking_number="NOPE", status="lost in space"))
    assert refused.value.status == 422
