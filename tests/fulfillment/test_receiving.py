"""Receiving against a purchase order gives the units to the orders waiting
for them, first come, first served, in the same transaction, and tells
those customers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.receiving import receive_goods
from inventory.models import PurchaseReceipt, StockLevel, StockMovement
from inventory.purchasing.inputs import PurchaseScan
from oms.lib.errors import ApplicationError
from oms.models import OutboxMessage
from orders.backorders import backorder_expected_dates, waiting_units
from orders.models import OrderStatus
from tests.factories.inventory import WarehouseFactory
from tests.factories.purchasing import SupplierProductFactory, backordered_order, purchase_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="MAIN")


@pytest.fixture
def offer():
    return SupplierProductFactory(lead_time_days=5)


def _scan(po, sku, quantity):
    return receive_goods(purchase_order_id=po.pk,
                         data=PurchaseScan.parse({"sku": sku, "quantity": quantity}), actor=None)


def test_received_units_go_to_the_oldest_waiting_order_first(offer, warehouse):
    product = offer.product
    first = backordered_order(product, 3)
    second = backordered_order(product, 3)
    assert first.status == second.status == OrderStatus.BACKORDERED
    po = purchase_order(offer.supplier, warehouse, [(product, 10)])
    result = _scan(po, product.sku, 4)
    first.refresh_from_db()
    second.refresh_from_db()
    # The older order is served in full, the younger one gets what is left.
    assert first.status == OrderStatus.RESERVED
    assert second.status == OrderStatus.BACKORDERED
    assert first.lines.get().backordered_quantity == 0
    assert second.lines.get().backordered_quantity == 2
    assert result.allocated == 2
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (4, 4)
    assert waiting_units(product_ids=[product.pk]) == {product.pk: 2}
    # Both customers are told, in the transaction of the receipt.
    assert OutboxMessage.objects.filter(payload__order_id=first.pk,
                                        payload__kind="confirmed").exists()
    assert OutboxMessage.objects.filter(payload__order_id=second.pk,
                                        payload__kind="allocated").exists()


def test_a_refused_scan_allocates_nothing(offer, warehouse):
    order = backordered_order(offer.product, 2)
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 10)])
    with pytest.raises(ApplicationError) as caught:
        _scan(po, "UNKNOWN", 5)
    assert "sku" in caught.value.field_errors
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED
    assert not PurchaseReceipt.objects.exists()
    assert not StockMovement.objects.filter(kind="receipt", reference=po.number).exists()


def test_a_backordered_line_shows_the_date_of_the_purchase_order_that_covers_it(offer,
                                                                                warehouse):
    soon = timezone.localdate() + timedelta(days=3)
    later = timezone.localdate() + timedelta(days=20)
    first = backordered_order(offer.product, 4)
    second = backordered_order(offer.product, 4)
    third = backordered_order(offer.product, 4)
    purchase_order(offer.supplier, warehouse, [(offer.product, 5)], expected_date=soon)
    other = SupplierProductFactory(product=offer.product, is_preferred=False)
    purchase_order(other.supplier, warehouse, [(offer.product, 3)], expected_date=later)
    line = {order: order.lines.get().pk for order in (first, second, third)}
    assert backorder_expected_dates(order=first) == {line[first]: soon}
    # 4 + 4 units wait: the first 5 arrive soon, the 6th to 8th later.
    assert backorder_expected_dates(order=second) == {line[second]: later}
    # Nothing ordered covers the third order yet.
    assert backorder_expected_dates(order=third) == {line[third]: None}


def test_customer_emails_get_the_date_that_covers_the_whole_queue(offer, warehouse):
    from orders.selectors import following_units

    soon = timezone.localdate() + timedelta(days=3)
    later = timezone.localdate() + timedelta(days=20)
    first = backordered_order(offer.product, 4)
    assert [f.expected for f in following_units(first)] == [None]  # nothing ordered yet
    purchase_order(offer.supplier, warehouse, [(offer.product, 5)], expected_date=soon)
    assert [f.expected for f in following_units(first)] == [soon]
    second = backordered_order(offer.product, 4)
    # 8 units wait, 5 are coming: no date is promised for the product...
    assert [f.expected for f in following_units(second)] == [None]
    other = SupplierProductFactory(product=offer.product, is_preferred=False)
    purchase_order(other.supplier, warehouse, [(offer.product, 3)], expected_date=later)
    # ...until the purchase orders cover the whole queue: the later date, for both.
    assert [f.expected for f in following_units(second)] == [later]
    assert [f.expected for f in following_units(first)] == [later]
