"""Receiving races on real PostgreSQL with real threads: a receipt and
placements for the same SKU at once, and two receivers on one purchase
order line."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from fulfillment.receiving import receive_goods
from inventory.models import (
    PurchaseOrder,
    PurchaseReceipt,
    Reservation,
    StockLevel,
    StockMovement,
)
from inventory.purchasing.inputs import PurchaseScan
from orders.models import OrderStatus
from tests.factories.customers import CustomerFactory
from tests.factories.inventory import WarehouseFactory
from tests.factories.orders import make_order
from tests.factories.purchasing import SupplierProductFactory, backordered_order, purchase_order
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)




def _ledger_matches_levels() -> None:
    for level in StockLevel.objects.all():
        ledger = (StockMovement.objects.filter(product_id=level.product_id,
                                               warehouse_id=level.warehouse_id)
                  .aggregate(total=Sum("quantity"))["total"] or 0)
        active = (Reservation.objects.filter(product_id=level.product_id,
                                             warehouse_id=level.warehouse_id,
                                             status=Reservation.Status.ACTIVE)
                  .aggregate(total=Sum("quantity"))["total"] or 0)
        assert ledger == level.on_hand
        assert active == level.reserved <= level.on_hand


def _scan(po, sku, quantity):
    return lambda: receive_goods(purchase_order_id=po.pk,
                                 data=PurchaseScan.parse({"sku": sku, "quantity": quantity}),
                                 actor=None)


def test_a_receipt_serves_waiting_orders_before_placements_racing_it():
    warehouse = WarehouseFactory(code="MAIN")
    for attempt in range(3):
        offer = SupplierProductFactory()
        product = offer.product
        waiting = [backordered_order(product, 3), backordered_order(product, 3)]
        assert all(order.status == OrderStatus.BACKORDERED for order in waiting)
        po = purchase_order(offer.supplier, warehouse, [(product, 8)])
        placements = [
            (lambda p=product: make_order(customer=CustomerFactory(), lines=[(p, 2)]))
            for _ in range(4)]
        results = run_together(_scan(po, product.sku, 8), *placements)
        assert not isinstance(results[0], Exception), results[0]
        # First come, first served: both older orders got their units,
        # whenever the placements ran.
        for order in waiting:
            order.refresh_from_db()
            assert order.status == OrderStatus.RESERVED, (attempt, results)
        placed = [r for r in results[1:] if not isinstance(r, Exception)]
        # 8 received - 6 for the waiting orders: room for one placement of 2.
        assert len(placed) <= 1, results
        level = StockLevel.objects.get(product=product, warehouse=warehouse)
        assert level.on_hand == 8
        assert level.reserved == 6 + 2 * len(placed)
        _ledger_matches_levels()


def test_two_receivers_on_the_same_line_both_count_and_the_over_receipt_is_recorded():
    warehouse = WarehouseFactory(code="MAIN")
    for _attempt in range(3):
        offer = SupplierProductFactory(supplier_sku="")
        po = purchase_order(offer.supplier, warehouse, [(offer.product, 10)])
        results = run_together(_scan(po, offer.product.sku, 6), _scan(po, offer.product.sku, 6))
        assert not any(isinstance(r, Exception) for r in results), results
        line = po.lines.get()
        assert line.quantity_received == 12
        receipts = PurchaseReceipt.objects.filter(line=line)
        assert sorted(receipts.values_list("over_quantity", flat=True)) == [0, 2]
        assert PurchaseOrder.objects.get(pk=po.pk).status == "received"
        assert po.events.filter(to_status="received").count() == 1
        level = StockLevel.objects.get(product=offer.product, warehouse=warehouse)
        assert level.on_hand == 12
    _ledger_matches_levels()
