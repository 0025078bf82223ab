"""Writes of the customers app: create, update and upsert customers and
their addresses.

Every function validates first and raises `ApplicationError` with
field-level errors, so nothing is written on bad input. They use plain
`transaction.atomic()` (a savepoint when nested) because order capture calls
`upsert_customer` inside the transaction that places the order: a refused
order then leaves no new customer behind.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from customers.inputs import CustomerAddressInput, CustomerInput
from customers.models import Address, Customer, CustomerKind
from oms.lib.errors import ApplicationError


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


def _store_address(customer: Customer, data: dict) -> Address:
    """Insert an address; the first one of its kind becomes the default."""
    has_default = Address.objects.filter(customer=customer, kind=data["kind"],
                                         is_default=True).exists()
    is_default = data.get("is_default") or not has_default
    if is_default and has_default:
        Address.objects.filter(customer=customer, kind=data["kind"],
                               is_default=True).update(is_default=False)
    return Address.objects.create(customer=customer, **{**data, "is_default": is_default})


def create_customer(*, name: str, email: str, actor, addresses: list[dict] | None = None,
                    **fields: Any) -> Customer:
    """Create a customer (and addresses). Extra `fields` are any of
    CustomerInput's (kind, phone, vat_id, payment terms, standing, ...)."""
    data = CustomerInput.parse({"name": name, "email": email, "addresses": addresses or [],
                                **fields})
    values = data.model_dump(exclude={"addresses"})
    if _email_taken(data.email):
        raise _duplicate_email_error(data.email)
    try:
        with transaction.atomic():
            customer = Customer.objects.create(**values)
            for address in data.addresses:
                _store_address(customer, address.model_dump())
    except IntegrityError:  # a concurrent create with the same e-mail won
        raise _duplicate_email_error(data.email)
    return customer


def update_customer(*, customer: Customer, actor, **fields: Any) -> Customer:
    """Change the given fields of a customer (validated like create)."""
    current = {name: getattr(customer, name)
               for name in CustomerInput.model_fields if name != "addresses"}
    data = CustomerInput.parse({**current, **fields})
    changed = {name: getattr(data, name) for name in fields}
    if "email" in changed and _email_taken(data.email, exclude_pk=customer.pk):
        raise _duplicate_email_error(data.email)
    try:
        with transaction.atomic():
            for field, value in changed.items():
                setattr(customer, field, value)
            customer.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise _duplicate_email_error(data.email)
    return customer


def upsert_customer(*, email: str, name: str, kind: str = CustomerKind.PERSON, phone: str = "",
                    vat_id: str = "", addresses: list[dict] | None = None, actor,
                    **fields: Any) -> Customer:
    """The customer with this e-mail (any case), created if new.

    An existing customer keeps its name, standing and terms: an anonymous
    storefront request must not rewrite them. Only blank phone / VAT id are
    filled in, and addresses not yet on file are added (never made default).
    Safe under concurrency: two requests for a new e-mail create one customer.
    """
    data = CustomerInput.parse({"email": email, "name": name, "kind": kind, "phone": phone,
                                "vat_id": vat_id, "addresses": addresses or [], **fields})
    existing = Customer.objects.filter(email__iexact=data.email).first()
    if existing is None:
        try:
            return create_customer(actor=actor, **data.model_dump())
        except ApplicationError as exc:
            if exc.code != "duplicate_email":
                raise
            existing = Customer.objects.get(email__iexact=data.email)
    # No savepoint: nothing in here is caught, so an error dooms the caller's
    # transaction as it would anyway (capture_order re-raises it).
    with transaction.atomic(savepoint=False):
        filled = [f for f in ("phone", "vat_id") if getattr(data, f) and not getattr(existing, f)]
        for field in filled:
            setattr(existing, field, getattr(data, field))
        if filled:
            existing.save(update_fields=[*filled, "updated_at"])
        known = {(a.kind, *(getattr(a, f) for f in Address.SNAPSHOT_FIELDS))
                 for a in existing.addresses.all()}
        for address in data.addresses:
            key = (address.kind, *(getattr(address, f) for f in Address.SNAPSHOT_FIELDS))
            if key not in known:
                _store_address(existing, {**address.model_dump(), "is_default": False})
                known.add(key)
    return existing


def add_address(*, customer: Customer, kind: str, actor, is_default: bool = False,
                **fields: Any) -> Address:
    prepared = CustomerAddressInput.parse({**fields, "kind": kind, "is_default": is_default},
                                          prefix="addresses.0.").model_dump()
    with transaction.atomic():
        # Lock the customer so two "make default" edits cannot both win.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        return _store_address(customer, prepared)


def update_address(*, address: Address, actor, **fields: Any) -> Address:
    is_default = fields.pop("is_default", address.is_default)
    current = {**address.as_snapshot(), "kind": address.kind}
    prepared = CustomerAddressInput.parse({**current, **fields, "is_default": is_default},
                                          prefix="addresses.0.").model_dump()
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


def delete_address(*, address: Address, actor) -> None:
    with transaction.atomic():
        address.delete()
