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
from orders.inputs import CaptureOrder, OrderChange
from orders.models import Channel, Order
from orders.services import change_order

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
    id: int = Field(description="The line's id: `PATCH /orders/{number}` names it to change it.")
    sku: str
    name: str
    quantity: int
    unit_price: str
    tax_rate: str
    discount: str = Field(description="Off the line: its own discount and its share of the "
                                      "order's; line_net = quantity x unit_price - discount.")
    line_net: str
    cancelled_quantity: int = Field(0, description="Units of `quantity` no longer delivered.")


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
            {"id": line.pk, "sku": line.sku, "name": line.name, "quantity": line.quantity,
             "cancelled_quantity": line.cancelled_quantity,
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


class OrderChangeIn(OrderChange):
    """The body of `PATCH /orders/{number}`: the fields to change; a field
    left out stays as it is. `lines`: `{"line": id, "quantity": n}` sets an
    existing line (0: nothing more of it, never below what is picked or
    shipped), `{"sku": ..., "quantity": n}` adds one. `version`: optional;
    without it the change applies to the order as it is when it arrives."""


@router.patch("/orders/{number}", response={200: OrderOut, 404: ErrorOut, **ERRORS},
              summary="Change an order before it ships")
def patch_order(request, number: Annotated[str, StringConstraints(max_length=32,
                                                                  pattern=NO_NUL)],
                payload: OrderChangeIn):
    """Change lines, addresses, carrier, promised date or notes of an order
    placed with this token, until it ships (scope: `orders`). Stock, prices
    (the order's price lists on its date), the payment and the pick lists
    follow; the customer is e-mailed. A shipped order answers 409 (a return
    or a supplementary invoice instead); a concurrent pick, shipment or
    change of the same order, or a stale `version`, answers 409."""
    order = get_object_or_404(Order, number=number, api_token=request.auth)
    change_order(order_id=order.pk, data=OrderChange.model_validate(
        payload.model_dump(exclude_unset=True)), actor=None)
    return order_out(_orders().get(pk=order.pk))
