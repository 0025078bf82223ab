"""Writes of the customers app: create, update and upsert customers and
their addresses.

Every function validates first and raises `ApplicationError` with
field-level errors, so nothing is written on bad input. They use plain
`transaction.atomic()` (a savepoint when nested) because order capture calls
`upsert_customer` inside the transaction that places the order: a refused
order then leaves no new customer behind.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Field, Model
from django.utils.translation import gettext as _

from customers.models import (
    Address,
    AddressKind,
    Customer,
    CustomerKind,
    PaymentPreference,
    Standing,
)
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError

ADDRESS_REQUIRED = ("name", "line1", "postal_code", "city", "country")
ADDRESS_OPTIONAL = ("line2", "region")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{4,40}$")

CUSTOMER_FIELDS = ("kind", "name", "email", "phone", "vat_id", "preferred_language",
                   "payment_preference", "payment_terms_days", "credit_limit", "standing",
                   "accepts_backorder", "notes")


def _max_length(model: type[Model], field: str) -> int | None:
    """The column's max_length; None for a text column (no limit)."""
    model_field = model._meta.get_field(field)
    return model_field.max_length if isinstance(model_field, Field) else None


def clean_address(data: Any, *, prefix: str = "") -> tuple[dict, dict[str, list[str]]]:
    """Normalise an address dict into the snapshot shape; returns (clean, errors).

    Errors are keyed `<prefix><field>` so callers can report them on their own
    paths (`shipping_address.city`, `addresses.1.country`).
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        return {}, {prefix.rstrip(".") or "address": [_("Enter an address.")]}
    clean: dict[str, str] = {}
    for field in ADDRESS_REQUIRED + ADDRESS_OPTIONAL:
        value = data.get(field, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[prefix + field] = [_("Enter text.")]
            continue
        value = " ".join(value.split())
        limit = _max_length(Address, field)
        if field in ADDRESS_REQUIRED and not value:
            errors[prefix + field] = [_("This field is required.")]
        elif limit is not None and len(value) > limit:
            errors[prefix + field] = [_("At most %(n)d characters.") % {"n": limit}]
        clean[field] = value
    country = clean.get("country", "").upper()
    if country and not _COUNTRY.match(country):
        errors[prefix + "country"] = [_("Use the two-letter ISO country code, e.g. FR.")]
    clean["country"] = country
    return clean, errors


def _clean_customer_fields(values: dict[str, Any], *, partial: bool) -> tuple[dict, dict]:
    """Validate the customer fields present in `values` (all required ones
    unless `partial`). Returns (clean, field_errors)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"unknown customer fields: {sorted(unknown)}")

    def text(field: str, *, required: bool = False) -> None:
        if field not in values:
            if required and not partial:
                errors[field] = [_("This field is required.")]
            return
        value = values[field]
        value = "" if value is None else value
        if not isinstance(value, str):
            errors[field] = [_("Enter text.")]
            return
        value = value.strip() if field == "notes" else " ".join(value.split())
        if required and not value:
            errors[field] = [_("This field is required.")]
            return
        limit = _max_length(Customer, field)
        if limit and len(value) > limit:
            errors[field] = [_("At most %(n)d characters.") % {"n": limit}]
            return
        clean[field] = value

    def choice(field: str, allowed: Collection[str]) -> None:
        if field in values:
            if values[field] not in allowed:
                errors[field] = [_("Choose one of: %(choices)s.")
                                 % {"choices": ", ".join(str(a) for a in allowed)}]
            else:
                clean[field] = str(values[field])

    text("name", required=True)
    text("email", required=True)
    if "email" in clean:
        clean["email"] = clean["email"].lower()
        try:
            validate_email(clean["email"])
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    text("phone")
    if clean.get("phone") and not _PHONE.match(clean["phone"]):
        errors["phone"] = [_("Enter a phone number: digits, spaces and + ( ) - . / only.")]
    text("vat_id")
    text("notes")
    choice("kind", CustomerKind.values)
    choice("payment_preference", PaymentPreference.values)
    choice("standing", Standing.values)
    choice("preferred_language", [code for code, _name in settings.LANGUAGES])
    if "payment_terms_days" in values:
        days = values["payment_terms_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
            errors["payment_terms_days"] = [_("Enter a whole number of days from 0 to 365.")]
        else:
            clean["payment_terms_days"] = days
    if "credit_limit" in values:
        raw = values["credit_limit"]
        try:
            if isinstance(raw, float | bool):
                raise InvalidOperation
            limit = Decimal(str(raw))
            if not limit.is_finite() or limit < 0 or limit != limit.quantize(Decimal("0.01")) \
                    or limit >= Decimal("1e12"):
                raise InvalidOperation
            clean["credit_limit"] = limit
        except (InvalidOperation, ValueError):
            errors["credit_limit"] = [_("Enter an amount of zero or more with at most two "
                                        "decimals.")]
    if "accepts_backorder" in values:
        if not isinstance(values["accepts_backorder"], bool):
            errors["accepts_backorder"] = [_("Enter yes or no.")]
        else:
            clean["accepts_backorder"] = values["accepts_backorder"]
    return clean, errors


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    qs = Customer.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _duplicate_email_error(email: str) -> ApplicationError:
    return ApplicationError(
        _("A customer with the e-mail %(email)s already exists.") % {"email": email},
        field_errors={"email": [_("A customer with this e-mail already exists.")]},
        code="duplicate_email")


def _prepare_addresses(addresses: list[dict] | None) -> list[dict]:
    """Validate a list of address dicts (each with a `kind`); raises on errors."""
    errors: dict[str, list[str]] = {}
    prepared = []
    for index, raw in enumerate(addresses or []):
        prefix = f"addresses.{index}."
        clean, address_errors = clean_address(raw, prefix=prefix)
        errors.update(address_errors)
        kind = raw.get("kind") if isinstance(raw, dict) else None
        if kind not in AddressKind.values:
            errors[prefix + "kind"] = [_("Choose billing or shipping.")]
        is_default = raw.get("is_default", False) if isinstance(raw, dict) else False
        prepared.append({**clean, "kind": kind, "is_default": bool(is_default)})
    if errors:
        raise ApplicationError(_("Please correct the address."), field_errors=errors)
    return prepared


def _store_address(customer: Customer, data: dict) -> Address:
    """Insert an address; the first one of its kind becomes the default."""
    has_default = Address.objects.filter(customer=customer, kind=data["kind"],
                                         is_default=True).exists()
    is_default = data.get("is_default") or not has_default
    if is_default and has_default:
        Address.objects.filter(customer=customer, kind=data["kind"],
                               is_default=True).update(is_default=False)
    return Address.objects.create(customer=customer, **{**data, "is_default": is_default})


def create_customer(*, name: str, email: str, actor: Actor, addresses: list[dict] | None = None,
                    **fields: Any) -> Customer:
    """Create a customer (and addresses). Extra `fields` are any of
    CUSTOMER_FIELDS (kind, phone, vat_id, payment terms, standing, ...)."""
    clean, errors = _clean_customer_fields({"name": name, "email": email, **fields},
                                           partial=False)
    if errors:
        raise ApplicationError(_("Please correct the errors below."), field_errors=errors)
    prepared = _prepare_addresses(addresses)
    if _email_taken(clean["email"]):
        raise _duplicate_email_error(clean["email"])
    try:
        with transaction.atomic():
            customer = Customer.objects.create(**clean)
            for data in prepared:
                _store_address(customer, data)
    except IntegrityError:  # a concurrent create with the same e-mail won
        raise _duplicate_email_error(clean["email"])
    return customer


def update_customer(*, customer: Customer, actor: Actor, **fields: Any) -> Customer:
    """Change the given fields of a customer (validated like create)."""
    clean, errors = _clean_customer_fields(fields, partial=True)
    if errors:
        raise ApplicationError(_("Please correct the errors below."), field_errors=errors)
    if "email" in clean and _email_taken(clean["email"], exclude_pk=customer.pk):
        raise _duplicate_email_error(clean["email"])
    try:
        with transaction.atomic():
            for field, value in clean.items():
                setattr(customer, field, value)
            customer.save(update_fields=[*clean, "updated_at"])
    except IntegrityError:
        raise _duplicate_email_error(clean.get("email", customer.email))
    return customer


def upsert_customer(*, email: str, name: str, kind: str = CustomerKind.PERSON, phone: str = "",
                    vat_id: str = "", addresses: list[dict] | None = None, actor: Actor,
                    **fields: Any) -> Customer:
    """The customer with this e-mail (any case), created if new.

    An existing customer keeps its name, standing and terms: an anonymous
    storefront request must not rewrite them. Only blank phone / VAT id are
    filled in, and addresses not yet on file are added (never made default).
    Safe under concurrency: two requests for a new e-mail create one customer.
    """
    probe, errors = _clean_customer_fields(
        {"email": email, "name": name, "kind": kind, "phone": phone, "vat_id": vat_id,
         **fields}, partial=False)
    if errors:
        raise ApplicationError(_("Please correct the customer details."), field_errors=errors)
    prepared = _prepare_addresses(addresses)
    existing = Customer.objects.filter(email__iexact=probe["email"]).first()
    if existing is None:
        try:
            return create_customer(actor=actor, addresses=addresses, **probe)
        except ApplicationError as exc:
            if exc.code != "duplicate_email":
                raise
            existing = Customer.objects.get(email__iexact=probe["email"])
    # No savepoint: nothing in here is caught, so an error dooms the caller's
    # transaction as it would anyway (capture_order re-raises it).
    with transaction.atomic(savepoint=False):
        filled = [f for f in ("phone", "vat_id") if probe.get(f) and not getattr(existing, f)]
        for field in filled:
            setattr(existing, field, probe[field])
        if filled:
            existing.save(update_fields=[*filled, "updated_at"])
        known = {(a.kind, *(getattr(a, f) for f in Address.SNAPSHOT_FIELDS))
                 for a in existing.addresses.all()}
        for data in prepared:
            key = (data["kind"], *(data[f] for f in Address.SNAPSHOT_FIELDS))
            if key not in known:
                _store_address(existing, {**data, "is_default": False})
                known.add(key)
    return existing


def add_address(*, customer: Customer, kind: str, actor: Actor, is_default: bool = False,
                **fields: Any) -> Address:
    prepared = _prepare_addresses([{**fields, "kind": kind, "is_default": is_default}])[0]
    with transaction.atomic():
        # Lock the customer so two "make default" edits cannot both win.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        return _store_address(customer, prepared)


def update_address(*, address: Address, actor: Actor, **fields: Any) -> Address:
    is_default = fields.pop("is_default", address.is_default)
    current = {**address.as_snapshot(), "kind": address.kind}
    prepared = _prepare_addresses([{**current, **fields, "is_default": is_default}])[0]
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=address.customer_id).first()
        if prepared["is_default"]:
            Address.objects.filter(customer_id=address.customer_id, kind=prepared["kind"],
                                   is_default=True).exclude(pk=address.pk).update(
                                       is_default=False)
        for field, value in prepared.items():
            setattr(address, field, value)
        address.save()
    return address


def delete_address(*, address: Address, actor: Actor) -> None:
    with transaction.atomic():
        address.delete()
