"""Order endpoints of the JSON API (`/api/v1/`), channel "api".

Every endpoint needs the token's `orders` scope. `POST /orders` places an
order for a customer named by e-mail (created if new) and records the token
on it; an e-mail is no proof of identity, so an order for a customer on
file uses the customer's account (terms, credit, standing) only if the
token may order on it (`orders.services.placement`), else it is held for
review; `GET /orders/{number}` reads one back, only
with the token that placed it: any other order (another integration's, or one
entered in the back office or imported) answers 404 like a missing one.
Prices and totals always come from the catalogue: a body carrying
`unit_price`, `total` or any other field not in the schema is refused with
422. `Idempotency-Key` makes a retry safe (see `oms.api.run_idempotent`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.shortcuts import get_object_or_404
from ninja import Header, Router, Schema, Status
from pydantic import Field, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from oms.api import AUTH_ERRORS, BODY_ERRORS, ErrorOut, require_scope, run_idempotent
from oms.lib.validation import NO_NUL
from oms.models import ApiScope
from orders.capture import capture_order
from orders.inputs import CaptureOrder
from orders.models import Channel, Order

router = Router(tags=["orders"], auth=require_scope(ApiScope.ORDERS))


class OrderIn(CaptureOrder):
    """The body of `POST /orders`: the capture input, channel "api"; the
    currency may be sent in lower case."""

    # Not read from the body (a "channel" key is an unknown field there).
    channel: SkipJsonSchema[Literal[Channel.API]] = Field(Channel.API,
                                                          validation_alias="__channel")

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class OrderLineOut(Schema):
    sku: str
    name: str
    quantity: int
    unit_price: str
    tax_rate: str
    discount: str = Field(description="Off the line: its own discount and its share of the "
                                      "order's; line_net = quantity x unit_price - discount.")
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
    discount_total: str = Field(description="All discounts, net of tax (in the lines' nets).")
    discount_code: str
    shipping: str = Field(description="The shipping charge, net of tax, in the totals.")
    lines: list[OrderLineOut]
    requested_carrier: str
    placed_at: str | None


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
        "discount_total": str(order.discount_total),
        "discount_code": (order.discount_redemption.code.code
                          if hasattr(order, "discount_redemption") else ""),
        "shipping": str(order.shipping_net),
        "lines": [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity,
             "unit_price": str(line.unit_price), "tax_rate": str(line.tax_rate),
             "discount": str(line.discount + line.order_discount),
             "line_net": str(line.line_net)}
            for line in order.lines.all()
        ],
        "requested_carrier": order.requested_carrier,
        "placed_at": order.placed_at.isoformat() if order.placed_at else None,
    }


def _orders():
    return Order.objects.select_related("customer", "discount_redemption__code") \
        .prefetch_related("lines")


ERRORS = {409: ErrorOut, **BODY_ERRORS, **AUTH_ERRORS}


@router.post("/orders", response={201: OrderOut, **ERRORS},
             summary="Place an order")
def create_order(request, payload: OrderIn,
                 idempotency_key: str | None = Header(None, alias="Idempotency-Key")):  # noqa: B008
    """Place an order. Prices, tax and totals come from the catalogue.
    Scope: `orders`.

    For a customer already on file (same e-mail), the customer's payment
    terms, credit limit and standing apply only when this token may order on
    the customer's account; otherwise the order is treated as prepaid and
    held for review by Sales (`on_hold`, `hold_reason` `account_review`).

    Send `Idempotency-Key` to retry safely: the same key with the same body
    replays the first answer; with another body it is refused (422).
    """

    def work() -> Order:
        data = payload
        if payload.payment is not None:
            data = payload.model_copy(update={"payment": payload.payment.model_copy(
                update={"idempotency_key": idempotency_key})})
        return capture_order(data, actor=None, api_token=request.auth)

    def answer(order: Order) -> tuple[int, dict]:
        # Read again: after commit the payment decision has run (reserved, on hold).
        order = _orders().get(pk=order.pk)
        return 201, order_out(order)

    result = run_idempotent(request, idempotency_key, work, answer)
    if isinstance(result, tuple):
        return Status(*result)
    return result  # a replayed response


@router.get("/orders/{number}",
            response={200: OrderOut, 404: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
            summary="Read an order")
def get_order(request, number: Annotated[str, StringConstraints(max_length=32,  # Order.number
                                                                pattern=NO_NUL)]):
    """Read an order placed with this token (scope: `orders`). Orders placed with another
    token, entered in the back office or imported answer 404, the same as a
    number that does not exist."""
    order = get_object_or_404(_orders(), number=number, api_token=request.auth)
    return order_out(order)
