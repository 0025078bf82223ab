"""Factories for suppliers and purchase orders. Purchase orders are made and
sent through the services, so each has its number, lines and history."""

from __future__ import annotations

from decimal import Decimal

import factory

from inventory.models import Product, Supplier, SupplierProduct, Warehouse
from inventory.purchasing import services
from inventory.purchasing.inputs import NewPurchaseOrder
from orders.models import Order
from orders.services import approve_order
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    code = factory.Sequence(lambda n: f"SUP{n:03d}")
    name = factory.Sequence(lambda n: f"Supplier {n}")
    email = factory.Sequence(lambda n: f"orders{n}@supplier.example")
    contact_name = "Anna Buyer"
    currency = "EUR"
    language = "en"


class SupplierProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierProduct

    supplier = factory.SubFactory(SupplierFactory)
    product = factory.SubFactory("tests.factories.inventory.ProductFactory")
    supplier_sku = factory.Sequence(lambda n: f"V-{n:05d}")
    unit_cost = Decimal("7.50")
    lead_time_days = 5
    minimum_order_quantity = 1
    pack_size = 1
    is_preferred = True


def purchase_order(supplier: Supplier, warehouse: Warehouse,
                   lines: list[tuple[Product, int]], *, send: bool = True, actor=None,
                   **line_fields):
    data = NewPurchaseOrder.parse({
        "supplier_id": supplier.pk, "warehouse_id": warehouse.pk,
        "lines": [{"product_id": p.pk, "quantity": q, **line_fields} for p, q in lines]})
    po = services.create_purchase_order(data=data, actor=actor)
    if send:
        po = services.send_purchase_order(purchase_order_id=po.pk, actor=actor)
    return po


def backordered_order(product: Product, quantity: int, **kwargs) -> Order:
    """An approved order that waits for `quantity` units of `product`."""
    customer = kwargs.pop("customer", None) or CustomerFactory(accepts_backorder=True)
    order = make_order(customer=customer, lines=[(product, quantity)], **kwargs)
    return approve_order(order_id=order.pk, actor=None)
