"""Typed inputs of order placement, validated once (see oms.lib.validation).

The entry form, the JSON API and the CSV import all build `PlaceOrder` (an
existing customer) or `CaptureOrder` (a customer named by e-mail); their
field errors carry these paths everywhere: `lines.0.sku`, `currency`,
`shipping_address.city`, `customer.email`, `payment.card_number`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    with_config,
)
from pydantic.json_schema import SkipJsonSchema

from customers.inputs import AddressInput, NewCustomer
from oms.lib.money import MONEY_DIGITS, MONEY_PLACES, is_known_currency, to_decimal
from oms.lib.validation import NO_NUL, NOT_BLANK, Input, LongText, Text
from orders.discounts import MAX_CODE, discount_text
from orders.feedback_models import MAX_COMMENT, MAX_RATING, MIN_RATING
from orders.models import Channel, PaymentMethod, ReturnChannel, ReturnReason
from orders.payments import PaymentDetails
from orders.template_models import MAX_TEMPLATE_NAME

MAX_LINES = 500
MAX_QUANTITY = 100_000
MAX_NOTES = 2000
MAX_CARRIER = 100  # Order.requested_carrier
# A discount as text: "10%" (at most 100) or an amount "5.00" (orders.discounts).
DiscountText = Annotated[str | None, BeforeValidator(discount_text), WithJsonSchema(
    {"type": ["string", "null"],
     "pattern": r"^\s*(\d{1,12}([.,]\d{1,2})?|(0{0,9}100([.,]0{1,2})?|0{0,10}\d{1,2}"
                r"([.,]\d{1,2})?)\s*%)\s*$",
     "description": "\"10%\" (at most 100 %) or an amount net of tax, \"5.00\"."})]


def _sku(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_("Enter a SKU."))
    if len(value.strip()) > 64:
        raise ValueError(_("At most %(n)d characters.") % {"n": 64})
    return value.strip()


def _quantity(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():  # JSON's 3.0 is the integer 3
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_QUANTITY:
        raise ValueError(_("Enter a whole number from 1 to %(max)d.") % {"max": MAX_QUANTITY})
    return value


@with_config(ConfigDict(extra="forbid", revalidate_instances="always"))
@dataclass(frozen=True)
class LineInput:
    # The Field constraints, first, are the schema's and hold after the validators.
    sku: Annotated[str, Field(max_length=64, pattern=NOT_BLANK), BeforeValidator(_sku)]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY), BeforeValidator(_quantity)]
    discount: DiscountText = None


class PaymentInput(Input):
    # Also read from a PaymentDetails (or any object with these attributes).
    model_config = ConfigDict(from_attributes=True)

    method: PaymentMethod
    card_number: str | None = Field(
        None, description="Cards only. Sandbox test numbers decide the outcome; never stored.",
        json_schema_extra={"pattern": r"^((?:[ -]*[0-9]){12,19}[ -]*)?$"})  # as _digits reads it
    # From the API's Idempotency-Key header, never from a body.
    idempotency_key: SkipJsonSchema[str | None] = Field(None, exclude=True)

    @field_validator("card_number")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value.replace(" ", "").replace("-", "")
        if not (value.isdigit() and 12 <= len(value) <= 19):
            raise ValueError(_("Enter 12 to 19 digits."))
        return value

    def details(self) -> PaymentDetails:
        return PaymentDetails(method=self.method, card_number=self.card_number,
                              idempotency_key=self.idempotency_key)


def _currency(value: Any) -> str:
    if not isinstance(value, str) or value not in settings.CURRENCIES:
        raise ValueError(_("Unsupported currency %(currency)s; use one of %(allowed)s.")
                         % {"currency": value, "allowed": ", ".join(settings.CURRENCIES)})
    return value


def _lines(value: Any) -> Any:
    if isinstance(value, list | tuple) and not value:
        raise ValueError(_("Add at least one line."))
    if isinstance(value, list | tuple) and len(value) > MAX_LINES:
        raise ValueError(_("At most %(n)d lines per order.") % {"n": MAX_LINES})
    return value


def _promised_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError(_("Use the format YYYY-MM-DD.")) from None
    if not isinstance(value, date) or isinstance(value, datetime) \
            or value < timezone.localdate():
        raise ValueError(_("Enter a date from today on."))
    return value


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class OrderDetails(Input):
    """Everything about an order but who orders it."""

    channel: Channel
    currency: Annotated[str, BeforeValidator(_currency), WithJsonSchema(
        {"type": "string", "enum": list(settings.CURRENCIES)})]
    lines: Annotated[list[LineInput], Field(min_length=1, max_length=MAX_LINES),
                     BeforeValidator(_lines)]
    shipping_address: AddressInput
    billing_address: Annotated[AddressInput | None, BeforeValidator(lambda v: v or None)] = None
    promised_delivery_date: Annotated[date | None, BeforeValidator(_promised_date)] = None
    payment: PaymentInput | None = None
    notes: Annotated[str, LongText(MAX_NOTES)] = ""
    requested_carrier: Annotated[str, LongText(MAX_CARRIER)] = Field(
        "", description="The carrier the customer chose, e.g. \"UPS\"; the warehouse sees it "
                        "and the shipping screen preselects a matching carrier.")
    ship_complete: Annotated[bool | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="true: ship in one parcel once every line is in stock; false: ship "
                          "what is ready now, the rest follows; null: the customer's choice.")

    discount: DiscountText = None
    discount_code: Annotated[str, Text(MAX_CODE)] = ""

    error_message = gettext_lazy("The order has errors; nothing was saved.")

    def payment_details(self) -> PaymentDetails | None:
        return self.payment.details() if self.payment else None


def _customer_id(value: Any) -> int:
    value = getattr(value, "pk", value)  # a Customer instance names itself
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("Choose a customer."))
    return value


class PlaceOrder(OrderDetails):
    """An order for a customer on file (`customer`: its id)."""

    customer: Annotated[int, BeforeValidator(_customer_id)]


class CaptureOrder(OrderDetails):
    """An order for a customer named by e-mail, created if new."""

    customer: NewCustomer


# --- price lists --------------------------------------------------------------

def _list_currency(value: Any) -> str:
    if not is_known_currency(value):
        raise ValueError(_("Unknown currency %(currency)s; use an ISO 4217 code such as EUR.")
                         % {"currency": value})
    return _currency(value)


def _optional_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(_("Use the format YYYY-MM-DD.")) from None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(_("Use the format YYYY-MM-DD."))
    return value


def _optional_id(value: Any) -> int | None:
    value = getattr(value, "pk", value)
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("Choose one from the list."))
    return value


class PriceListInput(Input):
    """A price list's header: scope (neither customer nor group: the
    catalogue default for the currency) and validity, inclusive. The rules
    across fields and lists are the service's (`save_price_list`)."""

    name: Annotated[str, Text(100, required=True)]
    currency: Annotated[str, BeforeValidator(_list_currency)]
    customer: Annotated[int | None, BeforeValidator(_optional_id)] = None
    customer_group: Annotated[int | None, BeforeValidator(_optional_id)] = None
    valid_from: Annotated[date | None, BeforeValidator(_optional_date)] = None
    valid_until: Annotated[date | None, BeforeValidator(_optional_date)] = None


def _digits_to_int(value: Any) -> Any:
    """A form's "10" is the number 10 (runs before `_quantity`)."""
    return int(value.strip()) if isinstance(value, str) and value.strip().isdigit() else value


def _unit_price(value: Any) -> Decimal:
    try:
        amount = to_decimal(value)
    except (TypeError, ValueError):
        raise ValueError(_("Enter an amount such as 12.50.")) from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(_("Enter a price above zero."))
    if amount >= Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES):
        raise ValueError(_("Enter a smaller amount."))
    return amount


class PriceInput(Input):
    """One price on a list: `unit_price` per unit from `min_quantity` units a line."""

    sku: Annotated[str, Field(max_length=64, pattern=NOT_BLANK), BeforeValidator(_sku)]
    min_quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY), BeforeValidator(_quantity),
                            BeforeValidator(_digits_to_int)] = 1
    unit_price: Annotated[Decimal, BeforeValidator(_unit_price)]


# --- changing an order before it ships -------------------------------------------

def _line_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():  # JSON's 3.0 is the integer 3
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(_("Unknown line."))
    return value


def _new_quantity(value: Any) -> int:
    """0 removes what is left of a line; otherwise as an order line's quantity."""
    value = _digits_to_int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise ValueError(_("Enter a whole number from 0 to %(max)d.") % {"max": MAX_QUANTITY})
    return value


def _optional_sku(value: Any) -> str:
    return "" if value in (None, "") or (isinstance(value, str) and not value.strip()) \
        else _sku(value)


class LineChange(Input):
    """One line of a change: an existing line (`line`, its id) to a new
    quantity (0: nothing more of it), or a new line (`sku`, no `line`; the
    service asks for the SKU when neither is given)."""

    line: Annotated[int | None, BeforeValidator(_line_id), WithJsonSchema(
        {"type": ["integer", "null"], "minimum": 1,
         "description": "The id of a line of the order (`lines[].id`); none for a new line."})
    ] = None
    sku: Annotated[str, Field(max_length=64, pattern=NO_NUL),
                   BeforeValidator(_optional_sku)] = ""
    quantity: Annotated[int, Field(ge=0, le=MAX_QUANTITY), BeforeValidator(_new_quantity)]


class OrderChange(Input):
    """What changes on an order before it ships. A field left out stays as
    it is; `lines` names only the lines that change and the new ones.
    `version`: the order as the change was prepared (the preview's), so a
    change prepared on an order that moved on since is refused."""

    version: Annotated[str, Text(64)] = ""
    lines: Annotated[list[LineChange], Field(max_length=MAX_LINES)] = Field(
        default_factory=list)
    shipping_address: AddressInput | None = None
    billing_address: AddressInput | None = None
    requested_carrier: Annotated[str, Text(MAX_CARRIER)] | None = None
    promised_delivery_date: Annotated[date | None, BeforeValidator(_promised_date)] = None
    notes: Annotated[str, LongText(MAX_NOTES)] | None = None

    error_message = gettext_lazy("The change has errors; nothing was saved.")

    def given(self, name: str) -> bool:
        """Whether the change names this field (None may mean "clear it")."""
        return name in self.model_fields_set
# --- returns ---------------------------------------------------------------------

MAX_RETURN_TEXT = 2000


def _order_line_id(value: Any) -> Any:
    value = getattr(value, "pk", value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(_("Choose an order line."))
    return value


def _return_quantity(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return _quantity(value)


@with_config(ConfigDict(extra="forbid", revalidate_instances="always"))
@dataclass(frozen=True)
class ReturnLineRequest:
    order_line_id: Annotated[int, BeforeValidator(_order_line_id)]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY), BeforeValidator(_return_quantity)]
    reason: ReturnReason


def _return_order_id(value: Any) -> Any:
    value = getattr(value, "pk", value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(_("Choose an order."))
    return value


def _return_lines(value: Any) -> Any:
    if not value:
        raise ValueError(_("Return at least one unit."))
    return value


class ReturnRequest(Input):
    """A return of some units of one order's shipped lines. `override_reason`:
    why staff opens it after the return window (RETURN_WINDOW_DAYS)."""

    order_id: Annotated[int, BeforeValidator(_return_order_id)]
    lines: Annotated[tuple[ReturnLineRequest, ...], Field(min_length=1, max_length=MAX_LINES),
                     BeforeValidator(_return_lines)]
    channel: ReturnChannel
    override_reason: Annotated[str, LongText(MAX_RETURN_TEXT)] = ""
    note: Annotated[str, LongText(MAX_RETURN_TEXT)] = ""

    error_message = gettext_lazy("The return has errors; nothing was saved.")


class ReturnDecision(Input):
    """Why customer service refuses a return (the customer reads it)."""

    reason: Annotated[str, LongText(MAX_RETURN_TEXT, required=True)]
    error_message = gettext_lazy("Please give a reason.")


# --- saved order templates ---------------------------------------------------------

@with_config(ConfigDict(extra="forbid", revalidate_instances="always"))
@dataclass(frozen=True)
class TemplateLineInput:
    sku: Annotated[str, Field(max_length=64, pattern=NOT_BLANK), BeforeValidator(_sku)]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY), BeforeValidator(_quantity),
                        BeforeValidator(_digits_to_int)]


class TemplateName(Input):
    """What the order desk calls a saved template (unique per customer)."""

    name: Annotated[str, Text(MAX_TEMPLATE_NAME, required=True)]
    error_message = gettext_lazy("Please give the template a name.")


class OrderTemplateInput(TemplateName):
    """A saved template: products and quantities a customer orders again, in
    the currency and through the channel its orders will have; no prices."""

    customer: Annotated[int, BeforeValidator(_customer_id)]
    currency: Annotated[str, BeforeValidator(_currency)]
    channel: Channel = Channel.PHONE
    lines: Annotated[list[TemplateLineInput], Field(min_length=1, max_length=MAX_LINES),
                     BeforeValidator(_lines)]
    notes: Annotated[str, LongText(MAX_NOTES)] = ""

    error_message = gettext_lazy("The template has errors; nothing was saved.")


def _rating(value: Any) -> int:
    """1 to 5 stars, as a number or the digit a form posts."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not (
            MIN_RATING <= value <= MAX_RATING):
        raise ValueError(_("Choose a rating from %(low)d to %(high)d.")
                         % {"low": MIN_RATING, "high": MAX_RATING})
    return value


class FeedbackInput(Input):
    """The customer's rating of a delivered order and an optional comment."""

    rating: Annotated[int, BeforeValidator(_rating)]
    comment: Annotated[str, LongText(MAX_COMMENT)] = ""

    error_message = gettext_lazy("Please correct your rating.")


# --- discount codes -----------------------------------------------------------------

def _code_text(value: Any) -> Any:
    """What a customer quotes: one word, kept as typed (matched without case)."""
    if isinstance(value, str) and value.strip() and any(c.isspace() for c in value.strip()):
        raise ValueError(_("A code is one word, without spaces."))
    return value


def _amount(value: Any, *, allow_zero: bool) -> Decimal:
    try:
        amount = to_decimal(value)
    except (TypeError, ValueError):
        raise ValueError(_("Enter an amount such as 12.50.")) from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError(_("Enter a number above zero.") if not allow_zero
                         else _("Enter zero or more."))
    if amount >= Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES):
        raise ValueError(_("Enter a smaller amount."))
    if amount != amount.quantize(Decimal(1).scaleb(-MONEY_PLACES)):
        raise ValueError(_("Use at most %(digits)d decimal places.") % {"digits": MONEY_PLACES})
    return amount.quantize(Decimal(1).scaleb(-MONEY_PLACES))


def _optional_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(_("Use the format YYYY-MM-DD HH:MM.")) from None
    if not isinstance(value, datetime):
        raise ValueError(_("Use the format YYYY-MM-DD HH:MM."))
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _optional_limit(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(_("Enter a whole number of at least 1, or leave it empty."))
    return value


class DiscountCodeInput(Input):
    """A discount code as the back office and the admin save it: a percentage
    (above 0, at most 100) or an amount in `currency` off the goods, valid
    from `valid_from` until before `valid_until` (open: no end), for orders
    of at least `minimum_order` net goods, at most `max_uses` uses in all and
    `max_uses_per_customer` per customer (empty: no limit). The rules across
    fields and codes (a percentage up to 100, the end after the start, a
    unique code, a used code's terms fixed) are the service's
    (`orders.services.discount_codes.check_discount_code`)."""

    code: Annotated[str, Text(MAX_CODE, required=True), BeforeValidator(_code_text)]
    description: Annotated[str, Text(200)] = ""
    kind: Literal["percent", "amount"]
    value: Annotated[Decimal, BeforeValidator(partial(_amount, allow_zero=False))]
    currency: Annotated[str, BeforeValidator(_list_currency)]
    minimum_order: Annotated[Decimal, BeforeValidator(partial(_amount, allow_zero=True))] \
        = Decimal("0.00")
    valid_from: Annotated[datetime | None, BeforeValidator(_optional_datetime)] = None  # now
    valid_until: Annotated[datetime | None, BeforeValidator(_optional_datetime)] = None
    max_uses: Annotated[int | None, BeforeValidator(_optional_limit)] = None
    max_uses_per_customer: Annotated[int | None, BeforeValidator(_optional_limit)] = None
    is_active: bool = True
