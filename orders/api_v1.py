"""Order endpoints of the JSON API (`/api/v1/`), channel "api".

`POST /orders` places an order for a customer named by e-mail (created if
new) and records the token on it; `GET /orders/{number}` reads one back, only
with the token that placed it: any other order (another integration's, or one
entered in the back office or imported) answers 404 like a missing one.
Prices and totals always come from the catalogue: a body carrying
`unit_price`, `total` or any other field not in the schema is refused with
422. `Idempotency-Key` makes a retry safe (see `oms.api.run_idempotent`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Header, Router, Schema, Status
from pydantic import ConfigDict, Field, StringConstraints, field_validator

from oms.api import run_idempotent
from orders.capture import CustomerData, capture_order
from orders.models import Channel, Order
from orders.payments import PaymentDetails

router = Router(tags=["orders"])

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                 max_length=200)]
CARD_NUMBER = re.compile(r"^\d{12,19}$")


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class AddressIn(StrictSchema):
    name: RequiredText
    line1: RequiredText
    line2: Text = ""
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                  max_length=20)]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    country: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                              pattern=r"^[A-Za-z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2 code, e.g. FR.")


class CustomerIn(StrictSchema):
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]
    name: RequiredText
    kind: Literal["person", "company"] = "person"
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    vat_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError(_("Enter a valid e-mail address."))
        return value.lower()


class LineIn(StrictSchema):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    # Strict: "2" or 2.5 are refused rather than coerced.
    quantity: Annotated[int, Field(strict=True, gt=0, le=100_000)]


class PaymentIn(StrictSchema):
    method: Literal["card", "bank_transfer", "paypal", "net_terms"]
    card_number: str | None = Field(
        None, description="Cards only. Sandbox test numbers decide the outcome; never stored.")

    @field_validator("card_number")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace(" ", "").replace("-", "")
        if not CARD_NUMBER.match(value):
            raise ValueError(_("Enter 12 to 19 digits."))
        return value


class OrderIn(StrictSchema):
    customer: CustomerIn
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    shipping_address: AddressIn
    billing_address: AddressIn | None = None
    currency: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True)]
    payment: PaymentIn | None = None
    promised_delivery_date: date | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] = ""
    requested_carrier: Annotated[str, StringConstraints(max_length=100)] = Field(
        "", description="The carrier the customer chose, e.g. \"UPS\"; the warehouse sees it "
                        "and the shipping screen preselects a matching carrier.")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in settings.CURRENCIES:
            raise ValueError(_("Unsupported currency %(currency)s; use one of %(allowed)s.")
                             % {"currency": value, "allowed": ", ".join(settings.CURRENCIES)})
        return value


class OrderLineOut(Schema):
    sku: str
    name: str
    quantity: int
    unit_price: str
    tax_rate: str
    line_net: str


class OrderOut(Schema):
    number: str
    status: str
    hold_reason: str
    channel: str
    currency: str
    customer_email: str
    total_net: str
    total_tax: str
    total_gross: str
    lines: list[OrderLineOut]
    requested_carrier: str
    placed_at: str | None


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]]


def order_out(order: Order) -> dict:
    return {
        "number": order.number,
        "status": order.status,
        "hold_reason": order.hold_reason,
        "channel": order.channel,
        "currency": order.currency,
        "customer_email": order.customer.email,
        "total_net": str(order.total_net),
        "total_tax": str(order.total_tax),
        "total_gross": str(order.total_gross),
        "lines": [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity,
             "unit_price": str(line.unit_price), "tax_rate": str(line.tax_rate),
             "line_net": str(line.line_net)}
            for line in order.lines.all()
        ],
        "requested_carrier": order.requested_carrier,
        "placed_at": order.placed_at.isoformat() if order.placed_at else None,
    }


ERRORS = {400: ErrorOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.post("/orders", response={201: OrderOut, **ERRORS},
             summary="Place an order")
def create_order(request, payload: OrderIn,
                 idempotency_key: str | None = Header(None, alias="Idempotency-Key")):  # noqa: B008
    """Place an order. Prices, tax and totals come from the catalogue.

    Send `Idempotency-Key` to retry safely: the same key with the same body
    replays the first answer; with another body it is refused (422).
    """

    def work() -> tuple[int, dict]:
        payment = None
        if payload.payment is not None:
            payment = PaymentDetails(method=payload.payment.method,
                                     card_number=payload.payment.card_number,
                                     idempotency_key=idempotency_key)
        order = capture_order(
            customer=CustomerData(**payload.customer.dict()),
            lines=[(line.sku, line.quantity) for line in payload.lines],
            channel=Channel.API,
            currency=payload.currency,
            shipping_address=payload.shipping_address.dict(),
            billing_address=payload.billing_address.dict() if payload.billing_address else None,
            promised_delivery_date=payload.promised_delivery_date,
            payment=payment,
            notes=payload.notes,
            requested_carrier=payload.requested_carrier,
            actor=None,
            api_token_id=request.auth.pk,
        )
        order = Order.objects.select_related("customer").prefetch_related("lines").get(
            pk=order.pk)
        return 201, order_out(order)

    result = run_idempotent(request, idempotency_key, work)
    if isinstance(result, tuple):
        return Status(*result)
    return result  # a replayed response


@router.get("/orders/{number}", response={200: OrderOut, 401: ErrorOut, 404: ErrorOut},
            summary="Read an order")
def get_order(request, number: str):
    """Read an order placed with this token. Orders placed with another
    token, entered in the back office or imported answer 404, the same as a
    number that does not exist."""
    order = get_object_or_404(
        Order.objects.select_related("customer").prefetch_related("lines"), number=number,
        api_token=request.auth)
    return order_out(order)
