"""Shipping and cancelling the same order at once, on real PostgreSQL with
real threads: exactly one wins and the stock adds up either way."""

from __future__ import annotations

import pytest

from fulfillment import services
from fulfillment.models import Shipment
from inventory.models import Reservation, StockLevel, StockMovement
from oms.lib.errors import NotAllowed
from orders.models import Order, OrderStatus
from orders.services import cancel_order
from tests.factories.fulfillment import CarrierServiceFactory, packed_order, shelved_product
from tests.factories.inventory import WarehouseFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)




def test_shipping_and_cancelling_at_once_exactly_one_wins():
    warehouse = WarehouseFactory(code="MAIN")
    product = shelved_product(warehouse, 100, bin_code="A-1")
    service = CarrierServiceFactory()
    outcomes = {"shipped": 0, "cancelled": 0}
    for attempt in range(10):
        order, shipment = packed_order([(product, 3)], warehouse=warehouse)
        results = run_together(
            lambda s=shipment, n=attempt: services.ship(
                shipment_id=s.pk, data=services.Handover.parse(
                    carrier_service_id=service.pk, tracking_number=f"RACE-{n}"), actor=None),
            lambda o=order: cancel_order(order_id=o.pk, actor=None, reason="race"))
        failures = [r for r in results if isinstance(r, Exception)]
        assert len(failures) == 1, results
        assert isinstance(failures[0], NotAllowed), failures
        order.refresh_from_db()
        reservation = Reservation.objects.get(order_id=order.pk)
        if isinstance(results[0], Exception):
            assert order.status == OrderStatus.CANCELLED
            assert reservation.status == "released"
            assert not StockMovement.objects.filter(reference__startswith=order.number).exists()
            outcomes["cancelled"] += 1
        else:
            # billing hears "order.shipped" after commit and may invoice at once
            assert order.status in (OrderStatus.SHIPPED, OrderStatus.INVOICED,
                                    OrderStatus.PAID)
            assert order.events.filter(to_status="shipped").count() == 1
            assert reservation.status == "consumed"
            assert Shipment.objects.get(pk=shipment.pk).status == "shipped"
            assert StockMovement.objects.get(reference__startswith=order.number).quantity == -3
            outcomes["shipped"] += 1
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert level.reserved == 0
    assert level.on_hand == 100 - 3 * outcomes["shipped"]
    assert Order.objects.filter(events__to_status="shipped").count() == outcomes["shipped"]
    assert Order.objects.filter(status="cancelled").count() == outcomes["cancelled"]
