"""Purchase orders: creation with the supplier's terms, the state machine,
receiving with over and under receipts, and refusals that write nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseReceipt,
    StockLevel,
    StockMovement,
)
from inventory.purchasing import services
from inventory.purchasing.inputs import NewPurchaseOrder, PurchaseScan
from oms.lib.errors import ApplicationError, NotAllowed
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tests.factories.purchasing import SupplierFactory, SupplierProductFactory, purchase_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="LYO")


@pytest.fixture
def offer():
    return SupplierProductFactory(unit_cost=Decimal("4.20"), lead_time_days=10,
                                  supplier_sku="ACME-77")


def _snapshot() -> tuple:
    return (PurchaseOrder.objects.count(), PurchaseOrderLine.objects.count(),
            sorted(PurchaseOrderLine.objects.values_list("pk", "quantity_received")),
            PurchaseReceipt.objects.count(), StockMovement.objects.count(),
            sorted(StockLevel.objects.values_list("pk", "on_hand")),
            sorted(PurchaseOrder.objects.values_list("pk", "status")))


def _receive(po, sku, quantity, actor=None):
    return services.receive_on_purchase_order(
        purchase_order_id=po.pk, data=PurchaseScan.parse({"sku": sku, "quantity": quantity}),
        actor=actor)


def test_a_line_takes_the_suppliers_cost_sku_and_lead_time(offer, warehouse):
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 12)], send=False)
    line = po.lines.get()
    assert po.status == "draft" and po.number.startswith("PO-")
    assert (line.unit_cost, line.supplier_sku, line.sku) == (Decimal("4.20"), "ACME-77",
                                                            offer.product.sku)
    assert line.expected_date == timezone.localdate() + timedelta(days=10)
    assert po.events.get().kind == "created"


def test_a_product_the_supplier_does_not_sell_needs_a_cost(warehouse):
    supplier = SupplierFactory()
    product = ProductFactory()
    data = NewPurchaseOrder.parse({"supplier_id": supplier.pk, "warehouse_id": warehouse.pk,
                                   "lines": [{"product_id": product.pk, "quantity": 3}]})
    with pytest.raises(ApplicationError) as caught:
        services.create_purchase_order(data=data, actor=None)
    assert "lines.0.unit_cost" in caught.value.field_errors
    assert PurchaseOrder.objects.count() == 0


@pytest.mark.parametrize("quantity", [0, -5, "x", 2.5, True])
def test_a_line_quantity_must_be_a_positive_whole_number(quantity, offer, warehouse):
    with pytest.raises(ApplicationError) as caught:
        NewPurchaseOrder.parse({"supplier_id": offer.supplier_id, "warehouse_id": warehouse.pk,
                                "lines": [{"product_id": offer.product_id,
                                           "quantity": quantity}]})
    assert "lines.0.quantity" in caught.value.field_errors


def test_an_expected_date_in_the_past_is_refused(offer, warehouse):
    with pytest.raises(ApplicationError) as caught:
        NewPurchaseOrder.parse({"supplier_id": offer.supplier_id, "warehouse_id": warehouse.pk,
                                "lines": [{"product_id": offer.product_id, "quantity": 1,
                                           "expected_date": "2001-01-01"}]})
    assert "lines.0.expected_date" in caught.value.field_errors


def test_sending_queues_the_supplier_email_once(offer, warehouse):
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 5)], send=False)
    po = services.send_purchase_order(purchase_order_id=po.pk, actor=None)
    assert po.status == "sent" and po.sent_at is not None
    with pytest.raises(NotAllowed):
        services.send_purchase_order(purchase_order_id=po.pk, actor=None)
    assert po.events.filter(kind="status_changed", to_status="sent").count() == 1


def test_receiving_in_parts_then_in_full(offer, warehouse):
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 10)])
    first = _receive(po, offer.product.sku, 4)
    assert first.purchase_order.status == "partly_received"
    second = _receive(po, "acme-77", 6)  # the supplier's SKU, any case
    assert second.purchase_order.status == "received"
    level = StockLevel.objects.get(product=offer.product, warehouse=warehouse)
    assert level.on_hand == 10
    movements = StockMovement.objects.filter(product=offer.product, kind="receipt")
    assert sorted(movements.values_list("quantity", flat=True)) == [4, 6]
    assert set(movements.values_list("reference", flat=True)) == {po.number}
    assert sum(movements.values_list("quantity", flat=True)) == level.on_hand


def test_an_over_receipt_is_recorded_and_stocked(offer, warehouse):
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 10)])
    _receive(po, offer.product.sku, 8)
    result = _receive(po, offer.product.sku, 5)
    assert result.receipt.over_quantity == 3
    line = po.lines.get()
    assert (line.quantity_received, line.outstanding, line.over_received) == (13, 0, 3)
    assert result.purchase_order.status == "received"
    assert StockLevel.objects.get(product=offer.product).on_hand == 13
    assert po.events.filter(kind="received").last().data == {
        "sku": offer.product.sku, "quantity": 5, "over": 3}


def test_closing_short_records_the_under_receipt(offer, warehouse):
    other = SupplierProductFactory(supplier=offer.supplier)
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 10), (other.product, 2)])
    _receive(po, offer.product.sku, 7)
    po = services.close_receiving(purchase_order_id=po.pk, actor=None)
    assert po.status == "received" and po.closed_at is not None
    closing = po.events.filter(to_status="received").get()
    assert closing.data["lines"] == [
        {"sku": offer.product.sku, "ordered": 10, "received": 7},
        {"sku": other.product.sku, "ordered": 2, "received": 0}]
    with pytest.raises(NotAllowed):
        _receive(po, offer.product.sku, 1)


@pytest.mark.parametrize("sku, quantity, field", [
    ("NOPE-1", 1, "sku"), ("", 1, "sku"), (None, 1, "sku"),
    ("{sku}", -2, "quantity"), ("{sku}", 0, "quantity"), ("{sku}", "ten", "quantity"),
])
def test_a_bad_scan_gets_a_field_error_and_writes_nothing(offer, warehouse, sku, quantity,
                                                          field):
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 10)])
    before = _snapshot()
    with pytest.raises(ApplicationError) as caught:
        _receive(po, sku.format(sku=offer.product.sku) if sku else sku, quantity)
    assert field in caught.value.field_errors
    assert _snapshot() == before


def test_receiving_on_a_cancelled_or_draft_purchase_order_is_refused(offer, warehouse):
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 10)])
    services.cancel_purchase_order(purchase_order_id=po.pk, reason="Supplier closed",
                                   actor=None)
    draft = purchase_order(offer.supplier, warehouse, [(offer.product, 1)], send=False)
    before = _snapshot()
    for target in (po, draft):
        with pytest.raises(NotAllowed):
            _receive(target, offer.product.sku, 1)
    assert _snapshot() == before


def test_cancel_needs_a_reason_and_is_refused_once_goods_arrived(offer, warehouse):
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 10)])
    with pytest.raises(ApplicationError) as caught:
        services.cancel_purchase_order(purchase_order_id=po.pk, reason=" ", actor=None)
    assert "reason" in caught.value.field_errors
    _receive(po, offer.product.sku, 1)
    with pytest.raises(NotAllowed):
        services.cancel_purchase_order(purchase_order_id=po.pk, reason="late", actor=None)
    assert PurchaseOrder.objects.get(pk=po.pk).status == "partly_received"


def test_rescheduling_a_line_is_recorded(offer, warehouse):
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 10)])
    line = po.lines.get()
    later = timezone.localdate() + timedelta(days=30)
    services.reschedule_line(line_id=line.pk, expected_date=later.isoformat(), actor=None)
    line.refresh_from_db()
    assert line.expected_date == later
    event = PurchaseOrderEvent.objects.get(kind="rescheduled")
    assert event.data["to"] == later.isoformat()
    with pytest.raises(ApplicationError) as caught:
        services.reschedule_line(line_id=line.pk, expected_date="yesterday", actor=None)
    assert "expected_date" in caught.value.field_errors


def test_the_status_cannot_be_assigned():
    po = PurchaseOrder()
    with pytest.raises(AttributeError):
        po.status = "received"
