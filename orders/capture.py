"""Order capture shared by the channels (API, CSV import, back-office entry).

Finds or creates the customer by e-mail and places the order in one
transaction, so a refused order (unknown SKU, blocked customer, no stock)
writes nothing, not even a new customer. The `CaptureOrder` input is parsed
by the channel already; field errors keep its paths (`lines.0.sku`,
`customer.email`, `shipping_address.city`).
"""

from __future__ import annotations

from django.db import transaction

from customers.services import upsert_customer
from orders.inputs import CaptureOrder, PlaceOrder
from orders.models import Order
from orders.services import place_order


def capture_order(data: CaptureOrder, *, actor=None, draft: bool = False,
                  api_token_id: int | None = None) -> Order:
    """Find or create the customer (by e-mail) and place the order, in one
    transaction: a refused order leaves no new customer behind.

    `api_token_id`: the JSON API's token, recorded on the order.

    Plain `transaction.atomic()`: the CSV import runs many captures inside
    its own all-or-nothing transaction; on its own this is the outermost one.
    """
    addresses = [{**data.shipping_address.model_dump(), "kind": "shipping"}]
    if data.billing_address:
        addresses.append({**data.billing_address.model_dump(), "kind": "billing"})
    with transaction.atomic():
        customer = upsert_customer(**data.customer.model_dump(), addresses=addresses,
                                   actor=actor)
        # Parsed once already: build the placement input without re-checking it.
        order = PlaceOrder.model_construct(**{**dict(data), "customer": customer.pk})
        return place_order(order, actor=actor, draft=draft, api_token_id=api_token_id)
