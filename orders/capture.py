"""Order capture shared by the channels (API, CSV import, back-office entry).

Finds or creates the customer by e-mail and places the order in one
transaction, so a refused order (unknown SKU, blocked customer, no stock)
writes nothing, not even a new customer. The `CaptureOrder` input is parsed
by the channel already; field errors keep its paths (`lines.0.sku`,
`customer.email`, `shipping_address.city`).
"""

from __future__ import annotations

from django.db import transaction

from customers.inputs import CustomerAddressInput
from customers.models import AddressKind
from customers.services import upsert_customer
from oms.lib.actors import Actor
from oms.lib.submissions import claim_submission, record_submission_result
from oms.models import ApiToken
from orders.inputs import CaptureOrder, PlaceOrder
from orders.models import Order
from orders.services import ENTRY_SUBMISSION, place_order


def capture_order(data: CaptureOrder, *, actor: Actor = None, draft: bool = False,
                  api_token: ApiToken | None = None, submission_key: str | None = None
                  ) -> Order:
    """Plain `transaction.atomic()`: the CSV import runs many captures inside
    its own all-or-nothing transaction; on its own this is the outermost one.
    `api_token`: the JSON API token placing it; whether it may use the
    account of the customer it names is `place_order`'s rule.
    `submission_key`: the entry form's one-time key (see `place_order`)."""
    addresses = [CustomerAddressInput.model_construct(**address.model_dump(), kind=kind)
                 for address, kind in [(data.shipping_address, AddressKind.SHIPPING),
                                       (data.billing_address, AddressKind.BILLING)] if address]
    with transaction.atomic():
        # Before the customer upsert: a twin submit waits here for this one's commit.
        submission = claim_submission(key=submission_key, purpose=ENTRY_SUBMISSION,
                                      actor=actor)
        customer = upsert_customer(data.customer, addresses=addresses, actor=actor)
        # Parsed once already: build the placement input without re-checking it.
        placement = PlaceOrder.model_construct(**{**dict(data), "customer": customer.pk})
        order = place_order(placement, actor=actor, draft=draft, api_token=api_token)
        record_submission_result(submission, order.pk)
        return order
