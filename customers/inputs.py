"""Typed inputs of the customers services, validated once (see oms.lib.validation).

`AddressInput` is also the shape of an order's address snapshot; `NewCustomer`
is what any capture channel may say about a customer (never its terms).
"""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from customers.models import (
    AddressKind,
    CustomerKind,
    InteractionKind,
    PaymentPreference,
    Standing,
)
from oms.lib.validation import Input, LongText, Text
from oms.lib.vat import (
    VAT_ID_PATTERN,
    is_known_country,
    known_countries,
    normalize_vat_id,
    vat_id_country,
)

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{4,40}$")


def _country(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_("This field is required.") if value in (None, "")
                         else _("Enter text."))
    if not _COUNTRY.match(value.strip().upper()):
        raise ValueError(_("Use the two-letter ISO country code, e.g. FR."))
    if not is_known_country(value.strip()):
        raise ValueError(_("Unknown country code %(code)s.") % {"code": value.strip().upper()})
    return value.strip().upper()


class AddressInput(Input):
    name: Annotated[str, Text(200, required=True)]
    line1: Annotated[str, Text(200, required=True)]
    line2: Annotated[str, Text(200)] = ""
    postal_code: Annotated[str, Text(20, required=True)]
    city: Annotated[str, Text(100, required=True)]
    region: Annotated[str, Text(100)] = ""
    country: Annotated[str, BeforeValidator(_country), WithJsonSchema(
        {"type": "string", "enum": sorted(known_countries()),
         "description": "ISO 3166 code."})]

    error_message = gettext_lazy("Please correct the address.")


class CustomerAddressInput(AddressInput):
    kind: AddressKind
    is_default: bool = False


def _phone(value: str) -> str:
    if value and not _PHONE.match(value):
        raise ValueError(_("Enter a phone number: digits, spaces and + ( ) - . / only."))
    return value


def _email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError(_("Enter a valid e-mail address.")) from None
    return value.lower()


class NewCustomer(Input):
    """A customer as a capture channel names it: found by e-mail, else created."""

    email: Annotated[str, Text(254, required=True), Field(json_schema_extra={"format": "email"})]
    name: Annotated[str, Text(200, required=True)]
    kind: CustomerKind = CustomerKind.PERSON
    phone: Annotated[str, Text(40), Field(json_schema_extra={
        "pattern": r"^(\+?[0-9 ()./-]{4,40})?$"})] = ""
    vat_id: Annotated[str, Text(40), Field(json_schema_extra={"pattern": VAT_ID_PATTERN})] = ""

    error_message = gettext_lazy("Please correct the customer details.")

    _valid_email = field_validator("email")(_email)

    @field_validator("vat_id")
    @classmethod
    def _valid_vat_id(cls, value: str) -> str:
        if not value:
            return value
        if vat_id_country(value) is None:
            raise ValueError(_("Enter the VAT id of an EU member state with its country prefix "
                               "and its number in that state's format, e.g. FR12345678901."))
        return normalize_vat_id(value)

    _valid_phone = field_validator("phone")(_phone)


def _amount(value: Any) -> Decimal:
    try:
        if isinstance(value, float | bool):
            raise InvalidOperation
        amount = Decimal(str(value))
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) \
                or amount >= Decimal("1e12"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValueError(_("Enter an amount of zero or more with at most two decimals.")) \
            from None
    return amount


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
        raise ValueError(_("Enter a whole number of days from 0 to 365."))
    return value


def _currency(value: Any) -> str:
    if not isinstance(value, str) or value not in settings.CURRENCIES:
        raise ValueError(_("Unknown currency %(currency)s; use one of %(allowed)s.")
                         % {"currency": value, "allowed": ", ".join(settings.CURRENCIES)})
    return value


def _language(value: Any) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    if value not in codes:
        raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(codes)})
    return value


def _time_zone(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or value not in zoneinfo.available_timezones():
        raise ValueError(_("Choose a time zone such as Europe/Paris."))
    return value


class CustomerInput(NewCustomer):
    """A customer as the back office edits it, with its terms and addresses."""

    preferred_language: Annotated[str, BeforeValidator(_language)] = Field(
        default_factory=lambda: settings.LANGUAGE_CODE)
    # Blank: the company's TIME_ZONE.
    time_zone: Annotated[str, BeforeValidator(_time_zone)] = ""
    payment_preference: PaymentPreference = PaymentPreference.CARD
    payment_terms_days: Annotated[int, BeforeValidator(_days)] = 0
    credit_limit: Annotated[Decimal, BeforeValidator(_amount)] = Decimal("0.00")
    credit_limit_currency: Annotated[str, BeforeValidator(_currency)] = Field(
        default_factory=lambda: str(settings.DEFAULT_CURRENCY))
    standing: Standing = Standing.NEW
    accepts_backorder: Annotated[bool, Field(strict=True)] = False
    ship_complete: Annotated[bool, Field(strict=True)] = True
    notes: Annotated[str, LongText(None)] = ""
    addresses: list[CustomerAddressInput] = []

    error_message = gettext_lazy("Please correct the errors below.")


class InteractionInput(Input):
    """A call, an incoming e-mail or a note, logged on the customer card."""

    kind: InteractionKind
    text: Annotated[str, LongText(5000, required=True)]
    order_number: Annotated[str, Text(32)] = ""

    error_message = gettext_lazy("Please correct the entry below.")


class ContactInput(Input):
    """A person at a company customer."""

    name: Annotated[str, Text(200, required=True)]
    role: Annotated[str, Text(100)] = ""
    email: Annotated[str, Text(254)] = ""
    phone: Annotated[str, Text(40)] = ""

    error_message = gettext_lazy("Please correct the contact.")

    _valid_phone = field_validator("phone")(_phone)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return _email(value) if value else value
