"""Cycle counts (back office): count what is on the shelves of one warehouse
and correct the ledger by the difference.

A count covers the products entered on it (a whole warehouse, a few bins,
one product): products not entered are not touched. Entries add up, so a
scanner can enter one unit per scan; an entry of 0 records a product counted
as absent. Confirming locks the counted stock levels in primary-key order
and writes, per product whose count differs from on_hand at that moment, one
`count` ledger row whose reference is the count's (`CC-000042`).

A count below what is reserved for orders is refused, naming the products:
those units are promised, so someone must first release or short-pick the
orders (the count stays open to be corrected or confirmed then).
"""

from __future__ import annotations

from typing import Annotated, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BeforeValidator

from inventory.api.locks import lock_stock_levels
from inventory.models import (
    Product,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMovement,
    Warehouse,
)
from inventory.services import _whole_number
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.validation import Input, LongText, Text


def _counted(value: Any) -> int:
    if _whole_number(value) < 0:
        raise ValueError(_("Enter zero or more."))
    if value > 1_000_000:
        raise ValueError(_("Enter at most %(max)d.") % {"max": 1_000_000})
    return value


def _warehouse_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(_("Choose a warehouse."))
    return value


class StartCount(Input):
    warehouse: Annotated[int, BeforeValidator(_warehouse_id)]
    note: Annotated[str, LongText(200)] = ""


class CountEntry(Input):
    """Units of one SKU found on the shelf, added to what the count has."""

    sku: Annotated[str, Text(64, required=True)]
    quantity: Annotated[int, BeforeValidator(_counted)] = 1


def _actor(actor: Actor):
    return actor if getattr(actor, "pk", None) else None


def start_count(data: StartCount, *, actor: Actor) -> StockCount:
    warehouse = Warehouse.objects.filter(pk=data.warehouse).first()
    if warehouse is None or not warehouse.is_active:
        msg = _("Choose an open warehouse.")
        raise ApplicationError(msg, field_errors={"warehouse": [msg]})
    with transaction.atomic(durable=True):
        return StockCount.objects.create(warehouse=warehouse, note=data.note,
                                         created_by=_actor(actor))


def _lock_open(count_id: int) -> StockCount:
    count = StockCount.objects.select_for_update().filter(pk=count_id).first()
    if count is None:
        raise ApplicationError(_("This count does not exist."), code="not_found")
    if not count.is_open:
        raise NotAllowed(_("Count %(ref)s is %(status)s; it cannot change any more.")
                         % {"ref": count.reference, "status": count.get_status_display().lower()},
                         code="count_closed")
    return count


def enter_count(data: CountEntry, *, count_id: int, actor: Actor) -> StockCountLine:
    """Add counted units of one SKU to an open count."""
    product = Product.objects.filter(sku__iexact=data.sku).first()
    if product is None:
        msg = _("No product has the SKU %(sku)s.") % {"sku": data.sku}
        raise ApplicationError(msg, field_errors={"sku": [msg]}, code="unknown_sku")
    with transaction.atomic(durable=True):
        count = _lock_open(count_id)
        line, created = StockCountLine.objects.get_or_create(
            count=count, product=product, defaults={"counted": data.quantity})
        if not created:
            StockCountLine.objects.filter(pk=line.pk).update(
                counted=F("counted") + data.quantity, updated_at=timezone.now())
            line.refresh_from_db()
        return line


def remove_count_line(*, count_id: int, product_id: int, actor: Actor) -> None:
    """Take a product off an open count, to count it again."""
    with transaction.atomic(durable=True):
        count = _lock_open(count_id)
        StockCountLine.objects.filter(count=count, product_id=product_id).delete()


def confirm_count(*, count_id: int, actor: Actor) -> StockCount:
    """Write each variance to the ledger and close the count, or refuse
    (writing nothing) when a product would end below its reserved units."""
    with transaction.atomic(durable=True):
        count = _lock_open(count_id)
        lines = list(count.lines.select_related("product").order_by("product_id"))
        if not lines:
            raise ApplicationError(_("Enter at least one counted product first."),
                                   code="empty_count")
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=line.product_id, warehouse_id=count.warehouse_id)
             for line in lines], ignore_conflicts=True)
        levels = {level.product_id: level for level in lock_stock_levels(
            warehouse_id=count.warehouse_id, product_id__in=[line.product_id for line in lines])}
        short = [(line, levels[line.product_id]) for line in lines
                 if line.counted < levels[line.product_id].reserved]
        if short:
            raise ApplicationError(
                _("Counted below what is reserved for orders: %(lines)s. Release or short-pick "
                  "those orders first, or count again.") % {"lines": "; ".join(
                    _("%(sku)s counted %(counted)d, %(reserved)d reserved")
                    % {"sku": line.product.sku, "counted": line.counted,
                       "reserved": level.reserved} for line, level in short)},
                code="below_reserved")
        now = timezone.now()
        movements = []
        for line in lines:
            level = levels[line.product_id]
            line.on_hand_before, line.variance = level.on_hand, line.counted - level.on_hand
            if line.variance:
                StockLevel.objects.filter(pk=level.pk).update(on_hand=line.counted,
                                                              updated_at=now)
                movements.append(StockMovement(
                    product_id=line.product_id, warehouse_id=count.warehouse_id,
                    quantity=line.variance, kind=StockMovement.Kind.COUNT,
                    reason=_("Cycle count"), reference=count.reference, actor=_actor(actor)))
        StockCountLine.objects.bulk_update(lines, ["on_hand_before", "variance"])
        StockMovement.objects.bulk_create(movements)
        count.confirm()
        count.closed_by = _actor(actor)
        count.save(update_fields=["status", "closed_at", "closed_by"])
        return count


def cancel_count(*, count_id: int, actor: Actor) -> StockCount:
    with transaction.atomic(durable=True):
        count = _lock_open(count_id)
        count.cancel()
        count.closed_by = _actor(actor)
        count.save(update_fields=["status", "closed_at", "closed_by"])
        return count
