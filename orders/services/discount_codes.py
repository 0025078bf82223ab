"""Writes of discount codes (read and redeemed at placement by `orders.discounts`).

The back-office pages and the Django admin both save through
`save_discount_code`. Each write locks the code's row, the lock placement
takes to count and redeem its uses, so a change and a placement are decided
one after the other.

Once a code has been used (any order redeemed it, cancelled ones included:
their records name the code and the discount it gave), what it gives is
fixed: its text, kind, value, currency, minimum order and start stay as they
are. It can still be described, deactivated, ended earlier or later and have
its usage limits changed; a different offer is a new code.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.lib import audit
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from orders.inputs import DiscountCodeInput
from orders.models import DiscountCode, DiscountKind, DiscountRedemption
from orders.services.price_lists import price_places_error

# Every field a save may change (audited field by field).
FIELDS = ("code", "description", "kind", "value", "currency", "minimum_order", "valid_from",
          "valid_until", "max_uses", "max_uses_per_customer", "is_active")
# What a code gives: fixed once an order has used it.
TERMS = ("code", "kind", "value", "currency", "minimum_order", "valid_from")


def is_used(code: DiscountCode) -> bool:
    return code.pk is not None and DiscountRedemption.objects.filter(code_id=code.pk).exists()


def _lock(code: DiscountCode) -> DiscountCode:
    return DiscountCode.objects.select_for_update().get(pk=code.pk)


def check_discount_code(data: DiscountCodeInput, *, code: DiscountCode | None) -> None:
    """The rules across fields and codes (the admin's form checks early with
    it; the save checks again with the row locked). One ApplicationError
    with every field error."""
    errors: dict[str, list[str]] = {}
    if data.kind == DiscountKind.PERCENT and data.value > 100:
        errors["value"] = [_("A percentage is at most 100.")]
    elif data.kind == DiscountKind.AMOUNT and (message := price_places_error(data.value,
                                                                         data.currency)):
        errors["value"] = [message]
    if message := price_places_error(data.minimum_order, data.currency):
        errors["minimum_order"] = [message]
    start = data.valid_from or (code.valid_from if code is not None else timezone.now())
    if data.valid_until is not None and data.valid_until <= start:
        errors["valid_until"] = [_("The end of validity is not after its start.")]
    others = DiscountCode.objects.filter(code__iexact=data.code)
    if code is not None:
        others = others.exclude(pk=code.pk)
    if others.exists():
        errors["code"] = [_("Another code is already %(code)s.") % {"code": data.code}]
    if code is not None and is_used(code):
        for name in TERMS:
            wanted = getattr(data, name)
            if name == "valid_from" and wanted is None:
                continue
            if audit.plain(wanted) != audit.plain(getattr(code, name)):
                errors.setdefault(name, []).append(
                    _("This code has been used, so what it gives cannot change; deactivate "
                      "it and create a new code instead."))
    if errors:
        raise ApplicationError(_("The discount code has errors; nothing was saved."),
                               field_errors=errors)


def save_discount_code(data: DiscountCodeInput, *, code: DiscountCode | None = None,
                       actor: Actor) -> DiscountCode:
    """Create a discount code, or change `code`."""
    with transaction.atomic():
        if code is not None:
            code = _lock(code)
        check_discount_code(data, code=code)
        kind = audit.Kind.CHANGED if code is not None else audit.Kind.CREATED
        code = code or DiscountCode()
        before = audit.snapshot(code, list(FIELDS)) if kind == audit.Kind.CHANGED else {}
        for name in FIELDS:
            value = getattr(data, name)
            if name == "valid_from" and value is None:
                value = code.valid_from if code.pk else timezone.now()
            setattr(code, name, value)
        try:
            with transaction.atomic():
                code.save()
        except IntegrityError:  # another save took the code in the meantime
            raise ApplicationError(
                _("The discount code has errors; nothing was saved."),
                field_errors={"code": [_("Another code is already %(code)s.")
                                       % {"code": data.code}]}) from None
        audit.record_changes(code, actor=actor, kind=kind, changes=audit.changes_between(
            before, audit.snapshot(code, list(FIELDS))))
        return code


def deactivate_discount_code(*, code: DiscountCode, actor: Actor) -> DiscountCode:
    """No further order may use the code; orders that did keep its discount."""
    with transaction.atomic():
        code = _lock(code)
        if code.is_active:
            code.is_active = False
            code.save(update_fields=["is_active"])
            audit.record_changes(code, actor=actor, kind=audit.Kind.CHANGED,
                                 changes={"is_active": (True, False)})
        return code
