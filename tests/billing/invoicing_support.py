"""Helpers of the invoicing tests: orders taken through the real services up
to shipment, so billing's "order.shipped" handler does the invoicing."""

from __future__ import annotations

from decimal import Decimal

from customers.models import Customer
from orders import services as order_services
from orders.models import Order
from tests.factories.billing import APPROVE, card, net_terms
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product


def two_rate_lines() -> list:
    """Two products at 20 % and one at 5.5 %: tax per rate shows on the invoice."""
    return [
        (stocked_product(sku="BOOK-1", name="Garden handbook", unit_price=Decimal("12.50"),
                         tax_rate=Decimal("5.50")), 2),
        (stocked_product(sku="LAMP-1", name="Desk lamp", unit_price=Decimal("39.90"),
                         tax_rate=Decimal("20.00")), 1),
        (stocked_product(sku="BULB-1", name="LED bulb", unit_price=Decimal("3.35"),
                         tax_rate=Decimal("20.00")), 3),
    ]


def terms_customer(**extra) -> Customer:
    return CustomerFactory(payment_preference="net_terms", payment_terms_days=30,
                           credit_limit=Decimal("100000.00"), **extra)


def reserved_order(*, on_terms: bool = True, lines=None, customer=None) -> Order:
    """A trusted customer's order, approved by billing's approver (reserved)."""
    customer = customer or (terms_customer() if on_terms else CustomerFactory())
    order = make_order(customer=customer, lines=lines,
                       payment=net_terms() if on_terms else card(APPROVE))
    from billing.services import approve_order_payment

    approve_order_payment(order_id=order.pk, payment=net_terms() if on_terms else card(APPROVE),
                          actor=None)
    order.refresh_from_db()
    assert order.status == "reserved", order.status
    return order


def ship(order: Order, actor=None) -> Order:
    order_services.start_picking(order_id=order.pk, actor=actor)
    order_services.mark_packed(order_id=order.pk, actor=actor)
    order_services.mark_shipped(order_id=order.pk, actor=actor)
    order.refresh_from_db()
    return order
