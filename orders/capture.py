"""Order capture shared by the channels (API, CSV import, back-office entry).

Checks what can be checked without writing (SKUs known and active, currency,
blocked customer) so a bad request writes nothing, not even a new customer;
then upserts the customer by e-mail and calls `orders.services.place_order`.
Field errors use the request's own paths (`lines.0.sku`, `currency`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import Customer
from customers.services import upsert_customer
from inventory import api as inventory_api
from oms.lib.errors import ApplicationError
from oms.lib.money import is_supported_currency
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


def check_lines(lines: list[tuple[str, int]], *, prefix: str = "lines") -> dict[str, list[str]]:
    """Field errors for unknown or inactive SKUs and non-positive quantities."""
    errors: dict[str, list[str]] = {}
    products = inventory_api.products_by_sku(skus=[sku for sku, _qty in lines])
    for index, (sku, quantity) in enumerate(lines):
        product = products.get(sku)
        if product is None:
            errors[f"{prefix}.{index}.sku"] = [_("Unknown SKU %(sku)s.") % {"sku": sku}]
        elif not product.is_active:
            errors[f"{prefix}.{index}.sku"] = [
                _("Product %(sku)s is no longer sold.") % {"sku": sku}]
        if not isinstance(quantity, int) or quantity <= 0:
            errors[f"{prefix}.{index}.quantity"] = [_("Enter a whole number above zero.")]
    return errors


def check_customer(email: str) -> Customer | None:
    """The existing customer with this e-mail; refuses a blocked one."""
    customer = Customer.objects.filter(email__iexact=email).first()
    if customer is not None and customer.is_blocked:
        raise ApplicationError(
            _("Customer %(email)s is blocked and cannot order.") % {"email": email},
            field_errors={"customer.email": [_("This customer is blocked.")]},
            code="customer_blocked")
    return customer


def precheck(*, customer_email: str, lines: list[tuple[str, int]], currency: str) -> None:
    """Every refusal that needs no write, raised as one ApplicationError."""
    errors = check_lines(lines)
    if not is_supported_currency(currency):
        errors["currency"] = [_("Unsupported currency %(currency)s.") % {"currency": currency}]
    if errors:
        raise ApplicationError(_("The order has errors; nothing was saved."),
                               field_errors=errors)
    check_customer(customer_email)


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
                  payment: PaymentDetails | None = None, notes: str = "", actor=None,
                  draft: bool = False) -> Order:
    """Find or create the customer (by e-mail) and place the order, in one
    transaction: a refused order leaves no new customer behind.

    Plain `transaction.atomic()`: the CSV import runs many captures inside
    its own all-or-nothing transaction; on its own this is the outermost one.
    """
    precheck(customer_email=customer.email, lines=lines, currency=currency)
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
            payment=payment, notes=notes, actor=actor, draft=draft)
