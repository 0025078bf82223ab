"""Writes of price lists (read at placement by `orders.pricing`).

Lists of one scope (currency, and the same customer, the same group or
neither) never overlap in validity, so at most one list per scope applies on
a day. Every write takes a transaction-scoped advisory lock per currency
first: two back-office users saving overlapping lists at once are checked
one after the other.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, CustomerGroup
from inventory.models import Product
from oms.lib import audit
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.money import currency_digits, quantize_money
from orders.inputs import PriceInput, PriceListInput
from orders.price_lists import PriceList, PriceListEntry

# The header fields a save may change (audited field by field).
HEADER_FIELDS = ("name", "currency", "customer", "customer_group", "valid_from", "valid_until")


def _lock_currency(currency: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                       [f"orders.price_list:{currency}"])


def _overlapping(data: PriceListInput, *, exclude: int | None) -> PriceList | None:
    others = PriceList.objects.filter(currency=data.currency,
                                      customer__isnull=data.customer is None,
                                      customer_group__isnull=data.customer_group is None)
    if data.customer is not None:
        others = others.filter(customer_id=data.customer)
    if data.customer_group is not None:
        others = others.filter(customer_group_id=data.customer_group)
    if data.valid_until is not None:
        others = others.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=data.valid_until))
    if data.valid_from is not None:
        others = others.filter(Q(valid_until__isnull=True)
                               | Q(valid_until__gte=data.valid_from))
    if exclude is not None:
        others = others.exclude(pk=exclude)
    return others.order_by("pk").first()


def check_price_list(data: PriceListInput, *, exclude: int | None) -> None:
    """The rules across fields and lists (forms check early with it; the
    save checks again under the lock)."""
    errors: dict[str, list[str]] = {}
    if data.customer is not None and data.customer_group is not None:
        errors["customer_group"] = [_("Choose a customer or a customer group, not both.")]
    if data.customer is not None and not Customer.objects.filter(pk=data.customer).exists():
        errors["customer"] = [_("Choose a customer.")]
    if data.customer_group is not None and not CustomerGroup.objects.filter(
            pk=data.customer_group).exists():
        errors["customer_group"] = [_("Choose a customer group.")]
    if data.valid_from and data.valid_until and data.valid_until < data.valid_from:
        errors["valid_until"] = [_("The end of validity is before its start.")]
    if not errors and (other := _overlapping(data, exclude=exclude)) is not None:
        errors["valid_from"] = [_("Overlaps the validity of price list %(name)s for the same "
                                  "customer or group and currency.") % {"name": other.name}]
    if errors:
        raise ApplicationError(_("The price list has errors; nothing was saved."),
                               field_errors=errors)


def save_price_list(data: PriceListInput, *, price_list: PriceList | None = None,
                    actor: Actor) -> PriceList:
    """Create a price list, or change `price_list`'s header. Its currency is
    fixed once it has prices (they are amounts in that currency)."""
    with transaction.atomic():
        _lock_currency(data.currency)
        if price_list is not None:
            price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
            if price_list.currency != data.currency:
                _lock_currency(price_list.currency)
                if price_list.entries.exists():
                    raise ApplicationError(
                        _("The price list has errors; nothing was saved."),
                        field_errors={"currency": [
                            _("This list has prices in %(currency)s; start a new list for "
                              "another currency.") % {"currency": price_list.currency}]})
        check_price_list(data, exclude=price_list.pk if price_list else None)
        kind = audit.Kind.CHANGED if price_list is not None else audit.Kind.CREATED
        price_list = price_list or PriceList()
        before = audit.snapshot(price_list, list(HEADER_FIELDS))
        price_list.name, price_list.currency = data.name, data.currency
        price_list.customer_id, price_list.customer_group_id = (data.customer,
                                                                data.customer_group)
        price_list.valid_from, price_list.valid_until = data.valid_from, data.valid_until
        price_list.save()
        audit.record_changes(price_list, actor=actor, kind=kind, changes=audit.changes_between(
            before, audit.snapshot(price_list, list(HEADER_FIELDS))))
        return price_list


def price_places_error(unit_price: Decimal, currency: str) -> str | None:
    """A price with more decimals than its currency has, e.g. 1.5 JPY."""
    if quantize_money(unit_price, currency) == unit_price:
        return None
    if currency_digits(currency) == 0:
        return _("%(currency)s prices have no decimals.") % {"currency": currency}
    return _("Use at most %(digits)d decimal places.") % {"digits": currency_digits(currency)}


def set_price(*, price_list: PriceList, data: PriceInput, actor: Actor) -> PriceListEntry:
    """Set the price of a product on a list from a quantity on (added or changed)."""
    errors: dict[str, list[str]] = {}
    product_id = Product.objects.filter(sku=data.sku).values_list("pk", flat=True).first()
    if product_id is None:
        errors["sku"] = [_("Unknown SKU %(sku)s.") % {"sku": data.sku}]
    if (message := price_places_error(data.unit_price, price_list.currency)):
        errors["unit_price"] = [message]
    if errors:
        raise ApplicationError(_("The price has errors; nothing was saved."),
                               field_errors=errors)
    assert product_id is not None  # an unknown SKU is refused above
    with transaction.atomic():
        # Locked so the audit's "before" is the price this one replaces.
        before = (PriceListEntry.objects.select_for_update()
                  .filter(price_list=price_list, product_id=product_id,
                          min_quantity=data.min_quantity)
                  .values_list("unit_price", flat=True).first())
        entry, created = PriceListEntry.objects.update_or_create(
            price_list=price_list, product_id=product_id, min_quantity=data.min_quantity,
            defaults={"unit_price": data.unit_price})
        PriceList.objects.filter(pk=price_list.pk).update(updated_at=timezone.now())
        audit.record_changes(entry, on=price_list,
                             object_label=_entry_label(price_list, data.sku, data.min_quantity),
                             actor=actor,
                             kind=audit.Kind.CREATED if created else audit.Kind.CHANGED,
                             changes={"unit_price": (before, entry.unit_price)})
        return entry


def _entry_label(price_list: PriceList, sku: str, min_quantity: int) -> str:
    return f"{price_list.name} · {sku} ≥ {min_quantity}"


def remove_price(*, entry: PriceListEntry, actor: Actor) -> None:
    with transaction.atomic():
        removed = (PriceListEntry.objects.select_for_update().filter(pk=entry.pk)
                   .select_related("price_list", "product").first())
        if removed is None:
            return
        removed.delete()
        removed.pk = entry.pk
        audit.record_changes(removed, on=removed.price_list, actor=actor,
                             kind=audit.Kind.DELETED,
                             object_label=_entry_label(removed.price_list,
                                                       removed.product.sku, removed.min_quantity),
                             changes={"unit_price": (removed.unit_price, None)})
