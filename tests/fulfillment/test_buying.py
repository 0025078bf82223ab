"""The buying proposal (what to buy) and the late-order check."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fulfillment import buying, lateness
from inventory.models import PurchaseOrder, StockLevel
from oms.lib.errors import ApplicationError
from oms.models import OutboxMessage
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.factories.purchasing import (
    SupplierFactory,
    SupplierProductFactory,
    backordered_order,
    purchase_order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="MAIN")


def _line(proposal, product):
    return next(line for group in proposal.suppliers for line in group.lines
                if line.product == product)


def test_the_need_counts_backorders_reorder_level_free_stock_and_open_orders(warehouse):
    offer = SupplierProductFactory(minimum_order_quantity=1, pack_size=1)
    product = offer.product
    backordered_order(product, 7)
    level = stock(product, warehouse, 0)
    StockLevel.objects.filter(pk=level.pk).update(reorder_level=5)
    purchase_order(offer.supplier, warehouse, [(product, 4)])
    line = _line(buying.buying_proposal(), product)
    assert (line.waiting, line.reorder_level, line.free, line.on_order) == (7, 5, 0, 4)
    assert line.need == 7 + 5 - 0 - 4
    assert line.quantity == 8


def test_quantities_respect_minimum_order_and_pack_size(warehouse):
    offer = SupplierProductFactory(minimum_order_quantity=10, pack_size=6)
    backordered_order(offer.product, 3)
    assert _line(buying.buying_proposal(), offer.product).quantity == 12
    assert offer.orderable(13) == 18


def test_the_preferred_supplier_gets_the_line_and_a_late_arrival_is_flagged(warehouse):
    product = ProductFactory()
    SupplierProductFactory(product=product, is_preferred=False, unit_cost=Decimal("1.00"))
    preferred = SupplierProductFactory(product=product, is_preferred=True,
                                       unit_cost=Decimal("9.00"), lead_time_days=30)
    backordered_order(product, 2,
                      promised_delivery_date=timezone.localdate() + timedelta(days=10))
    line = _line(buying.buying_proposal(), product)
    assert line.offer == preferred
    assert line.arrives_late


def test_nothing_is_proposed_when_stock_and_orders_cover_the_need(warehouse):
    offer = SupplierProductFactory()
    backordered_order(offer.product, 3)
    purchase_order(offer.supplier, warehouse, [(offer.product, 3)])
    assert buying.buying_proposal().suppliers == []


def test_a_product_without_supplier_is_listed_apart(warehouse):
    product = ProductFactory()
    backordered_order(product, 2)
    assert buying.buying_proposal().unsourced == [(product, 2)]


def test_creating_from_the_proposal_makes_one_draft_per_supplier(warehouse, make_user):
    one, two = SupplierFactory(), SupplierFactory()
    a = SupplierProductFactory(supplier=one)
    b = SupplierProductFactory(supplier=one)
    c = SupplierProductFactory(supplier=two)
    post = {f"quantity_{a.product_id}_{one.pk}": "5", f"quantity_{b.product_id}_{one.pk}": "0",
            f"quantity_{c.product_id}_{two.pk}": " 7 "}
    created = buying.create_from_proposal(post=post, warehouse_id=warehouse.pk,
                                          actor=make_user("Buyer"))
    assert [po.supplier for po in created] == [one, two]
    assert [(line.product, line.quantity_ordered) for po in created
            for line in po.lines.all()] == [(a.product, 5), (c.product, 7)]
    assert all(po.status == "draft" for po in created)


@pytest.mark.parametrize("value", ["-3", "2.5", "lots", "99999999"])
def test_a_bad_quantity_is_a_field_error_and_creates_nothing(warehouse, value):
    good, bad = SupplierProductFactory(), SupplierProductFactory()
    post = {f"quantity_{good.product_id}_{good.supplier_id}": "5",
            f"quantity_{bad.product_id}_{bad.supplier_id}": value}
    with pytest.raises(ApplicationError) as caught:
        buying.create_from_proposal(post=post, warehouse_id=warehouse.pk, actor=None)
    assert list(caught.value.field_errors) == [f"quantity_{bad.product_id}_{bad.supplier_id}"]
    assert not PurchaseOrder.objects.exists()


def test_an_unknown_warehouse_or_product_creates_nothing(warehouse):
    offer = SupplierProductFactory()
    with pytest.raises(ApplicationError) as caught:
        buying.create_from_proposal(post={f"quantity_{offer.product_id}_{offer.supplier_id}": "1"},
                                    warehouse_id=0, actor=None)
    assert "orders.0.warehouse_id" in caught.value.field_errors
    with pytest.raises(ApplicationError) as caught:
        buying.create_from_proposal(post={f"quantity_999999_{offer.supplier_id}": "1"},
                                    warehouse_id=warehouse.pk, actor=None)
    assert "orders.0.lines.0.product_id" in caught.value.field_errors
    assert not PurchaseOrder.objects.exists()


def test_an_order_is_late_without_a_purchase_order_or_when_it_slipped(warehouse):
    from inventory.purchasing import services

    offer = SupplierProductFactory()
    promised = timezone.localdate() + timedelta(days=10)
    order = backordered_order(offer.product, 2, promised_delivery_date=promised)
    (late,) = lateness.late_orders()
    assert late.order == order and late.expected is None
    assert late.reason == lateness.NO_PURCHASE_ORDER
    po = purchase_order(offer.supplier, warehouse, [(offer.product, 2)],
                        expected_date=promised - timedelta(days=2))
    assert lateness.late_orders() == []
    services.reschedule_line(line_id=po.lines.get().pk,
                             expected_date=promised + timedelta(days=5), actor=None)
    (late,) = lateness.late_orders()
    assert late.expected == promised + timedelta(days=5)
    assert late.reason == lateness.ARRIVES_TOO_LATE


def test_the_customer_is_told_the_new_date_once_per_date(warehouse, mailoutbox,
                                                         django_capture_on_commit_callbacks):
    offer = SupplierProductFactory()
    promised = timezone.localdate() + timedelta(days=3)
    order = backordered_order(offer.product, 2, promised_delivery_date=promised)
    new_date = promised + timedelta(days=4)
    purchase_order(offer.supplier, warehouse, [(offer.product, 2)], expected_date=new_date)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert lateness.notify_late_orders() == 1
    assert lateness.notify_late_orders() == 0
    (mail,) = mailoutbox
    assert mail.to == [order.customer.email]
    assert order.number in mail.subject
    assert new_date.strftime("%B") in mail.body and str(new_date.day) in mail.body
    assert order.events.filter(kind="email", reason="delayed").count() == 1
    assert OutboxMessage.objects.filter(payload__kind="delayed").count() == 1
