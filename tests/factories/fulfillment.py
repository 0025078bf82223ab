"""Factories for the fulfillment app. Orders reach fulfilment through the
services (placed, approved, picked, packed), never by writing a status."""

from __future__ import annotations

from decimal import Decimal

import factory

from fulfillment import services
from fulfillment.models import Carrier, CarrierService, PickList, Shipment
from inventory.models import Product, Warehouse
from orders.models import Order, OrderStatus
from orders.services import approve_order
from tests.factories.inventory import BinLocationFactory, ProductFactory, WarehouseFactory, stock
from tests.factories.orders import make_order


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"CAR{n:02d}")
    name = factory.Sequence(lambda n: f"Carrier {n}")
    tracking_url_template = "https://track.example/?n={tracking_number}"


class CarrierServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarrierService

    carrier = factory.SubFactory(CarrierFactory)
    code = factory.Sequence(lambda n: f"svc{n}")
    name = "Standard"
    price = Decimal("7.50")
    transit_days = 2


def shelved_product(warehouse: Warehouse, quantity: int = 100, *, bin_code: str = "",
                    **fields) -> Product:
    """A product with stock and a bin in `warehouse`."""
    product = ProductFactory(**fields)
    stock(product, warehouse, quantity)
    if bin_code:
        BinLocationFactory(product=product, warehouse=warehouse, code=bin_code)
    return product


def reserved_order(lines: list[tuple[Product, int]], **kwargs) -> Order:
    """A placed and approved order: its stock is firmly reserved."""
    order = make_order(lines=lines, **kwargs)
    if order.status != OrderStatus.RESERVED:
        order = approve_order(order_id=order.pk, actor=None)
    assert order.status == OrderStatus.RESERVED, order.status
    return order


def picked_order(lines: list[tuple[Product, int]], warehouse: Warehouse, *, actor=None,
                 **kwargs) -> tuple[Order, PickList]:
    """A reserved order, put on a pick list in `warehouse`, every unit found."""
    return pick_reserved(reserved_order(lines, **kwargs), warehouse, actor=actor)


def pick_reserved(order: Order, warehouse: Warehouse, *, actor=None) -> tuple[Order, PickList]:
    """A reserved order put on a pick list in `warehouse`, every unit found."""
    pick_list = services.create_pick_list(warehouse_id=warehouse.pk, order_ids=[order.pk],
                                          actor=actor)
    for line in pick_list.lines.all():
        services.confirm_pick(pick_list_id=pick_list.pk,
                              data=services.PickScan(sku=line.sku, quantity=line.quantity),
                              actor=actor)
    services.complete_pick_list(pick_list_id=pick_list.pk, actor=actor)
    order.refresh_from_db()
    return order, pick_list


def packed_order(lines: list[tuple[Product, int]] | None = None, *, warehouse=None,
                 actor=None, **kwargs) -> tuple[Order, Shipment]:
    """An order picked and packed in one warehouse (status packed)."""
    warehouse = warehouse or WarehouseFactory(code="MAIN")
    if lines is None:
        lines = [(shelved_product(warehouse, 10, bin_code="A-01-1",
                                  unit_price=Decimal("10.00")), 2)]
    order, _pick_list = picked_order(lines, warehouse, actor=actor, **kwargs)
    shipment = services.pack(order_id=order.pk, warehouse_id=warehouse.pk,
                             data=services.Packing.parse(package_type="box", weight="1.5"),
                             actor=actor)
    order.refresh_from_db()
    return order, shipment


def shipped_order(lines: list[tuple[Product, int]] | None = None, *, warehouse=None,
                  actor=None, tracking_number: str = "1ZRETURN0001", **kwargs
                  ) -> tuple[Order, Shipment]:
    """An order packed in one warehouse and handed to the carrier (shipped);
    run it inside django_capture_on_commit_callbacks(execute=True) for its
    invoice and e-mails."""
    from fulfillment.inputs import Handover

    order, shipment = packed_order(lines, warehouse=warehouse, actor=actor, **kwargs)
    shipment = services.ship(shipment_id=shipment.pk, actor=actor, data=Handover(
        carrier_service=CarrierServiceFactory(), tracking_number=tracking_number))
    order.refresh_from_db()
    return order, shipment


def ship_reserved(order: Order, warehouse: Warehouse, *, actor=None,
                  tracking_number: str = "1ZRETURN0001") -> Shipment:
    """A reserved order picked, packed and shipped from `warehouse` through
    the warehouse services (run inside django_capture_on_commit_callbacks to
    let billing capture and invoice)."""
    from fulfillment.inputs import Handover

    pick_reserved(order, warehouse, actor=actor)
    shipment = services.pack(order_id=order.pk, warehouse_id=warehouse.pk,
                             data=services.Packing.parse(package_type="box", weight="1.5"),
                             actor=actor)
    return services.ship(shipment_id=shipment.pk, actor=actor, data=Handover(
        carrier_service=CarrierServiceFactory(), tracking_number=tracking_number))
