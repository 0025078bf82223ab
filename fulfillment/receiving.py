"""Receiving goods against a purchase order, and giving them at once to the
orders waiting for them.

`receive_goods` is one durable transaction: the purchasing receipt (stock
up, ledger RECEIPT, the purchase order's status) and the allocation of the
units to waiting backorders, first come, first served, whose customers are
e-mailed after commit. A placement running at the same time therefore sees
either no new stock, or only what the waiting orders left.

Lock order: the waiting orders' rows first (id order), then the purchase
order and its line, then the stock level; the same order-then-stock rule as
the order services, so a receipt and a cancellation of a waiting order
queue instead of deadlocking.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from inventory.purchasing import services as purchasing
from inventory.purchasing.inputs import PurchaseScan
from oms.lib.actors import Actor
from orders import services as order_services
from orders.models import Order, OrderLine
from orders.services.allocation import ALLOCATING_STATES


@dataclass(frozen=True)
class Received:
    receipt: purchasing.Receipt
    # Waiting order lines that got units from this receipt.
    allocated: int


def _lock_waiting_orders(product_ids: list[int]) -> None:
    """Lock the orders with lines waiting for these products, in id order,
    before any stock row: `allocate_waiting` skips orders another
    transaction holds, so locking them here (waiting for a concurrent
    cancellation, say) makes every one of them take its turn."""
    waiting = OrderLine.objects.filter(product_id__in=product_ids,
                                       backordered_quantity__gt=0).values("order_id")
    list(Order.objects.select_for_update().filter(pk__in=waiting, status__in=ALLOCATING_STATES)
         .order_by("pk").values_list("pk", flat=True))


def receive_goods(*, purchase_order_id: int, data: PurchaseScan, actor: Actor) -> Received:
    """One scan on the receiving screen: the units go into stock and to the
    orders waiting for them, in one transaction."""
    with transaction.atomic(durable=True):
        product_ids = purchasing.scanned_product_ids(purchase_order_id=purchase_order_id,
                                                     sku=data.sku)
        _lock_waiting_orders(product_ids)
        receipt = purchasing.receive_on_purchase_order(
            purchase_order_id=purchase_order_id, data=data, actor=actor)
        allocated = order_services.allocate_waiting(product_ids=[receipt.product_id],
                                                    actor=actor)
    return Received(receipt=receipt, allocated=allocated)
