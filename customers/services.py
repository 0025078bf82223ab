"""Writes of the customers app: create, update and upsert customers, their
addresses and contacts, and the calls and notes logged on their card.

Creates take a typed input (customers.inputs) parsed once by the caller;
the patch-style updates parse theirs here. Refusals are `ApplicationError`
with field-level errors, so nothing is written on bad input. They use plain
`transaction.atomic()` (a savepoint when nested) because order capture calls
`upsert_customer` inside the transaction that places the order: a refused
order then leaves no new customer behind.

Credit terms and standing (`CREDIT_TERMS_FIELDS`) are Accounting's: every
write here refuses to change them for an actor without
`customers.change_credit_terms` (`Forbidden`, 403), whichever door the
request came through (form, admin, import), and records each change as a
`credit_terms_changed` event with the values before and after. The system
(actor None: migrations, scheduled tasks) may change them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models import Field
from django.utils.translation import gettext as _

from customers import events
from customers.inputs import (
    ContactInput,
    CustomerAddressInput,
    CustomerInput,
    InteractionInput,
    NewCustomer,
)
from customers.models import (
    CHANGE_CREDIT_TERMS,
    CREDIT_TERMS_FIELDS,
    Address,
    Contact,
    Customer,
    Interaction,
)
from oms.lib import audit
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, Forbidden


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


def may_change_credit_terms(actor: Actor) -> bool:
    """Whether `actor` may change credit limit, payment terms and standing."""
    return actor is None or actor.has_perm(CHANGE_CREDIT_TERMS)


def check_credit_terms_allowed(*, actor: Actor, fields: Sequence[str]) -> None:
    """Refuse (403) when `fields` name credit terms `actor` may not change."""
    names = [name for name in fields if name in CREDIT_TERMS_FIELDS]
    if not names or may_change_credit_terms(actor):
        return
    message = _("Only Accounting may change the credit limit, payment terms or standing.")
    raise Forbidden(message, field_errors={name: [message] for name in names},
                    code="credit_terms_forbidden")


def _term_defaults() -> dict[str, Any]:
    return {name: cast(Field, Customer._meta.get_field(name)).get_default()
            for name in CREDIT_TERMS_FIELDS}


def _create(values: dict[str, Any], addresses: Sequence[CustomerAddressInput], *,
            actor: Actor) -> Customer:
    # A new customer starts on the model's terms; anything else is a change
    # of terms like an edit, Accounting's to make.
    defaults = _term_defaults()
    terms = {name: values[name] for name in CREDIT_TERMS_FIELDS
             if name in values and values[name] != defaults[name]}
    check_credit_terms_allowed(actor=actor, fields=list(terms))
    # The case-insensitive unique constraint refuses a taken e-mail, also
    # against a concurrent create.
    try:
        with transaction.atomic():
            customer = Customer.objects.create(**values)
            for address in addresses:
                _store_address(customer, address.model_dump())
            if terms:
                events.credit_terms_changed(customer, actor=actor, before=defaults, after=terms)
                audit.record_changes(customer, actor=actor, kind=audit.Kind.CREATED,
                                     changes={name: (defaults[name], value)
                                              for name, value in terms.items()})
    except IntegrityError:
        raise _duplicate_email_error(values["email"])
    return customer


def create_customer(data: CustomerInput, *, actor: Actor) -> Customer:
    """Create a customer and its addresses (the first of each kind is the default)."""
    return _create(data.model_dump(exclude={"addresses"}), data.addresses, actor=actor)


def update_customer(*, customer: Customer, actor: Actor, **fields: Any) -> Customer:
    """Change the given fields of a customer (validated like create).

    A credit term whose value changes needs `customers.change_credit_terms`
    and is recorded with its value before and after; one given unchanged is
    not a change."""
    current = {name: getattr(customer, name)
               for name in CustomerInput.model_fields if name != "addresses"}
    data = CustomerInput.parse({**current, **fields})
    changed = {name: getattr(data, name) for name in fields}
    try:
        with transaction.atomic():
            # Locked so the "before" of the audit rows is what this change replaced.
            stored = Customer.objects.select_for_update().only(
                *{*CREDIT_TERMS_FIELDS, *changed}).get(pk=customer.pk)
            before = {name: getattr(stored, name) for name in {*CREDIT_TERMS_FIELDS, *changed}}
            terms = {name: value for name, value in changed.items()
                     if name in CREDIT_TERMS_FIELDS and value != before[name]}
            check_credit_terms_allowed(actor=actor, fields=list(terms))
            for field, value in changed.items():
                setattr(customer, field, value)
            customer.save(update_fields=[*changed, "updated_at"])
            if terms:
                events.credit_terms_changed(customer, actor=actor, before=before, after=terms)
            audit.record_changes(customer, actor=actor, kind=audit.Kind.CHANGED,
                                 changes=audit.changes_between(before, changed))
    except IntegrityError:
        raise _duplicate_email_error(data.email)
    return customer


def upsert_customer(data: NewCustomer, *, addresses: Sequence[CustomerAddressInput] = (),
                    actor: Actor) -> Customer:
    """The customer with this e-mail (any case), created if new.

    An existing customer keeps its name, standing and terms: an anonymous
    storefront request must not rewrite them. Only blank phone / VAT id are
    filled in, and addresses not yet on file are added (never made default).
    Safe under concurrency: two requests for a new e-mail create one customer.
    """
    existing = Customer.objects.filter(email__iexact=data.email).first()
    if existing is None:
        try:
            return _create(data.model_dump(exclude={"addresses"}), addresses, actor=actor)
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
        for address in addresses:
            key = (address.kind, *(getattr(address, f) for f in Address.SNAPSHOT_FIELDS))
            if key not in known:
                _store_address(existing, {**address.model_dump(), "is_default": False})
                known.add(key)
    return existing


def add_address(*, customer: Customer, kind: str, actor: Actor, is_default: bool = False,
                **fields: Any) -> Address:
    prepared = CustomerAddressInput.parse({**fields, "kind": kind, "is_default": is_default},
                                          prefix="addresses.0.").model_dump()
    with transaction.atomic():
        # Lock the customer so two "make default" edits cannot both win.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        address = _store_address(customer, prepared)
        audit.record_changes(address, on=customer, actor=actor, kind=audit.Kind.CREATED,
                             changes={name: (None, value) for name, value in prepared.items()
                                      if value not in ("", None)})
        return address


def update_address(*, address: Address, actor: Actor, **fields: Any) -> Address:
    current = {**address.as_snapshot(), "kind": address.kind, "is_default": address.is_default}
    prepared = CustomerAddressInput.parse({**current, **fields},
                                          prefix="addresses.0.").model_dump()
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=address.customer_id).first()
        if prepared["is_default"]:
            Address.objects.filter(customer_id=address.customer_id, kind=prepared["kind"],
                                   is_default=True).exclude(pk=address.pk).update(
                                       is_default=False)
        audit.record_changes(address, on=address.customer, actor=actor,
                             kind=audit.Kind.CHANGED,
                             changes=audit.changes_between(current, prepared))
        for field, value in prepared.items():
            setattr(address, field, value)
        address.save()
    return address


def log_interaction(*, customer: Customer, data: InteractionInput, actor: Actor) -> Interaction:
    """Log a call, an incoming e-mail or a note on the customer card."""
    return Interaction.objects.create(customer=customer, actor=actor, **data.model_dump())


def add_contact(*, customer: Customer, data: ContactInput, actor: Actor) -> Contact:
    return Contact.objects.create(customer=customer, **data.model_dump())


def remove_contact(*, contact: Contact, actor: Actor) -> None:
    contact.delete()
