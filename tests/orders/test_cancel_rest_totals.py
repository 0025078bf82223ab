"""Cancelling a line's backordered rest gives the order the figures a change
removing the same units gives: the order's discount shared again and the
shipping charge kept (and rebanded by the lighter parcel)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders.inputs import LineChange, OrderChange
from orders.models import ShippingRate
from orders.services import approve_order, cancel_backordered_rest, change_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.inventory import WarehouseFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

D = Decimal
FIGURES = ("total_net", "total_tax", "total_gross", "discount_total", "shipping_label",
           "shipping_net", "shipping_tax_rate")


def _waiting_order(warehouse):
    """5 x a product of which 3 are in stock (2 wait) and 1 x another; 10 % off."""
    short = stocked_product(3, warehouse=warehouse, unit_price=D("19.99"), tax_rate=D("20.00"),
                            weight_kg=D("1.5"))
    other = stocked_product(10, warehouse=warehouse, unit_price=D("7.45"), tax_rate=D("5.50"),
                            weight_kg=D("0.5"))
    order = make_order(customer=CustomerFactory(accepts_backorder=True),
                       lines=[(short, 5), (other, 1)], discount="10%",
                       shipping_address=address_data(country="FR"))
    order = approve_order(order_id=order.pk, actor=None)
    line = order.lines.get(product=short)
    assert line.backordered_quantity == 2
    return order, line


def test_cancelling_a_rest_keeps_discounts_and_shipping_like_a_change():
    for up_to, price in [(D("5"), "6.90"), (D("10"), "9.90")]:
        ShippingRate.objects.create(currency="EUR", country="FR", max_weight_kg=up_to,
                                    price=D(price), label="Parcel")
    warehouse = WarehouseFactory(code="MAIN")
    cancelled, cancelled_line = _waiting_order(warehouse)
    changed, changed_line = _waiting_order(warehouse)
    assert cancelled.shipping_net == D("9.90")  # 8 kg
    assert cancelled.discount_total > 0

    cancelled = cancel_backordered_rest(order_id=cancelled.pk, line_id=cancelled_line.pk,
                                        actor=None)
    change_order(order_id=changed.pk, actor=None, data=OrderChange(
        lines=[LineChange(line=changed_line.pk, quantity=3)]))
    cancelled.refresh_from_db()
    changed.refresh_from_db()

    assert [getattr(cancelled, name) for name in FIGURES] == [
        getattr(changed, name) for name in FIGURES]
    # 3 x 19.99 + 7.45 = 67.42, 10 % off = 6.74; 5 kg: the 6.90 band.
    assert cancelled.discount_total == D("6.74")
    assert (cancelled.shipping_label, cancelled.shipping_net) == ("Parcel", D("6.90"))
    assert cancelled.total_net == D("67.42") - D("6.74") + D("6.90")
    line_figures = ("unit_price", "line_net", "discount", "order_discount")
    for mine, theirs in zip(cancelled.lines.order_by("position"),
                            changed.lines.order_by("position"), strict=True):
        assert [getattr(mine, n) for n in line_figures] == [
            getattr(theirs, n) for n in line_figures]
    cancelled_line.refresh_from_db()
    assert (cancelled_line.cancelled_quantity, cancelled_line.backordered_quantity) == (2, 0)
