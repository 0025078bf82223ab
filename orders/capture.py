"""Order capture shared by the channels (API, CSV import, back-office entry).

Finds or creates the customer by e-mail and places the order in one
transaction, so a refused order (unknown SKU, blocked customer, no stock)
writes nothing, not even a new customer. Field errors use the request's own
paths (`lines.0.sku`, `currency`, `customer.phone`, `shipping_address.city`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from django.db import transaction

from customers.models import Customer
from customers.services import upsert_customer
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from orders.models import Order
from orders.payments import PaymentDetails
from orders.services import LineInput, place_order


@dataclass(frozen=True)
class CustomerData:
    email: str
    name: str
    kind: str = "person"
    phone: str = ""
    vat_id: str = ""


def _customer_errors(exc: ApplicationError, *, has_billing: bool) -> ApplicationError:
    """Re-key upsert_customer's errors onto the capture request's paths."""
    errors: dict[str, list[str]] = {}
    for path, messages in exc.field_errors.items():
        if path.startswith("addresses.0."):
            path = "shipping_address." + path.removeprefix("addresses.0.")
        elif path.startswith("addresses.1.") and has_billing:
            path = "billing_address." + path.removeprefix("addresses.1.")
        else:
            path = f"customer.{path}"
        errors[path] = messages
    return ApplicationError(exc.message, field_errors=errors, code=exc.code)


def capture_order(*, customer: Customer | CustomerData, lines: list[tuple[str, int]],
                  channel: str, currency: str, shipping_address: dict,
                  billing_address: dict | None = None,
                  promised_delivery_date: date | None = None,
                  payment: PaymentDetails | None = None, notes: str = "", actor: Actor = None,
                  draft: bool = False, api_token_id: int | None = None,
                  requested_carrier: str = "") -> Order:
    """Find or create the customer (by e-mail) and place the order, in one
    transaction: a refused order leaves no new customer behind.

    `api_token_id`: the JSON API's token, recorded on the order.

    Plain `transaction.atomic()`: the CSV import runs many captures inside
    its own all-or-nothing transaction; on its own this is the outermost one.
    """
    with transaction.atomic():
        if not isinstance(customer, Customer):
            addresses = [{**shipping_address, "kind": "shipping"}]
            if billing_address:
                addresses.append({**billing_address, "kind": "billing"})
            try:
                customer = upsert_customer(**asdict(customer), addresses=addresses,
                                           actor=actor)
            except ApplicationError as exc:
                raise _customer_errors(exc, has_billing=bool(billing_address))
        return place_order(
            customer=customer,
            lines=[LineInput(sku=sku, quantity=quantity) for sku, quantity in lines],
            channel=channel, currency=currency, shipping_address=shipping_address,
            billing_address=billing_address, promised_delivery_date=promised_delivery_date,
            payment=payment, notes=notes, actor=actor, draft=draft,
            api_token_id=api_token_id, requested_carrier=requested_carrier)
