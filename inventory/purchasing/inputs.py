"""Typed inputs of the purchasing services. Forms and the buying proposal
build them; a refusal comes back as field errors under the input's paths
(`lines.0.quantity`, `sku`)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import AfterValidator, BeforeValidator, Field

from oms.lib.validation import Input, LongText, Text

MAX_QUANTITY = 1_000_000


def _quantity(value: Any) -> int:
    """A whole number of units, 1 or more (typed text is accepted)."""
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,12}", value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("Enter a whole number."))
    if value <= 0:
        raise ValueError(_("Enter a quantity greater than zero."))
    if value > MAX_QUANTITY:
        raise ValueError(_("At most %(n)d units.") % {"n": MAX_QUANTITY})
    return value


def _cost(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise ValueError(_("Enter an amount."))
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValueError(_("Enter an amount.")) from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(_("Enter an amount of 0 or more."))
    return amount.quantize(Decimal("0.01"))


def _not_past(value: date | None) -> date | None:
    if value is not None and value < timezone.localdate():
        raise ValueError(_("The expected date cannot be in the past."))
    return value


def _day(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
    return value


Quantity = Annotated[int, BeforeValidator(_quantity)]
Day = Annotated[date | None, BeforeValidator(_day), AfterValidator(_not_past)]


class PurchaseLineInput(Input):
    product_id: int
    quantity: Quantity
    # None: the supplier's cost, and today plus the supplier's lead time.
    unit_cost: Annotated[Decimal | None, BeforeValidator(_cost)] = None
    expected_date: Day = None


class NewPurchaseOrder(Input):
    supplier_id: int
    warehouse_id: int
    lines: Annotated[list[PurchaseLineInput], Field(min_length=1, max_length=500)]
    notes: Annotated[str, LongText(2000)] = ""
    error_message = gettext_lazy("Please correct the purchase order.")


class PurchaseScan(Input):
    """One scan (or typed SKU: ours or the supplier's) and the units that arrived."""

    sku: Annotated[str, Text(64, required=True)]
    quantity: Quantity = 1
    error_message = gettext_lazy("Please correct the receipt.")


class Reschedule(Input):
    """The supplier's new date for a line's outstanding units."""

    expected_date: Annotated[date, BeforeValidator(_day), AfterValidator(_not_past)]
    error_message = gettext_lazy("Please correct the expected date.")


class CancelPurchase(Input):
    reason: Annotated[str, LongText(2000, required=True)]
    error_message = gettext_lazy("Please give a reason.")
