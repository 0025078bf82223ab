"""Writes of the inventory app done by the back office: stock receipts and
adjustments.

Each service changes `StockLevel.on_hand` and writes the matching
`StockMovement` row in one transaction, so the ledger always sums to the
stock level. Reservations (the order side) live in `inventory.api`.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BeforeValidator

from inventory.api.locks import lock_stock_levels
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.validation import Input, LongText


def _whole_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("Enter a whole number."))
    return value


def _received(value: Any) -> int:
    if _whole_number(value) <= 0:
        raise ValueError(_("Enter a quantity greater than zero."))
    return value


def _adjusted(value: Any) -> int:
    if _whole_number(value) == 0:
        raise ValueError(_("An adjustment cannot be zero."))
    return value


def _adjust_reason(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(_("Say why the stock is adjusted."))
    return value


class StockReceipt(Input):
    quantity: Annotated[int, BeforeValidator(_received)]
    reference: Annotated[str, LongText(100)] = ""
    reason: Annotated[str, LongText(200)] = ""


class StockAdjustment(Input):
    """A signed correction of on_hand, with the reason it is made."""

    quantity: Annotated[int, BeforeValidator(_adjusted)]
    reason: Annotated[str, LongText(200, required=True), BeforeValidator(_adjust_reason)]
    reference: Annotated[str, LongText(100)] = ""


def _check_targets(product: Product, warehouse: Warehouse) -> None:
    if product is None or product.pk is None:
        msg = _("This product does not exist.")
        raise ApplicationError(msg, field_errors={"product": [msg]})
    if warehouse is None or warehouse.pk is None:
        msg = _("This warehouse does not exist.")
        raise ApplicationError(msg, field_errors={"warehouse": [msg]})
    if not warehouse.is_active:
        msg = _("Warehouse %(code)s is closed.") % {"code": warehouse.code}
        raise ApplicationError(msg, field_errors={"warehouse": [msg]})


def _locked_level(product: Product, warehouse: Warehouse) -> StockLevel:
    """Create the stock level if it is missing (race-free), then lock it."""
    StockLevel.objects.bulk_create([StockLevel(product=product, warehouse=warehouse)],
                                   ignore_conflicts=True)
    return lock_stock_levels(product=product, warehouse=warehouse)[0]


def _record(*, level: StockLevel, quantity: int, kind: str, reason: str, reference: str,
            actor: Actor) -> StockMovement:
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity,
                                                  updated_at=timezone.now())
    level.refresh_from_db(fields=["on_hand", "reserved", "updated_at"])
    return StockMovement.objects.create(
        product_id=level.product_id, warehouse_id=level.warehouse_id, quantity=quantity,
        kind=kind, reason=reason[:200], reference=reference[:100],
        actor=actor if getattr(actor, "pk", None) else None)


def receive_stock(*, product: Product, warehouse: Warehouse, quantity: int, actor: Actor,
                  reference: str = "", reason: str = "") -> StockMovement:
    """Goods arrived in `warehouse`: on_hand goes up by `quantity` (> 0)."""
    data = StockReceipt.parse({"quantity": quantity, "reference": reference, "reason": reason})
    _check_targets(product, warehouse)
    with transaction.atomic(durable=True):
        level = _locked_level(product, warehouse)
        return _record(level=level, quantity=data.quantity, kind=StockMovement.Kind.RECEIPT,
                       reason=data.reason or _("Goods received"), reference=data.reference,
                       actor=actor)


def adjust_stock(*, product: Product, warehouse: Warehouse, quantity: int, reason: str,
                 actor: Actor, reference: str = "") -> StockMovement:
    """Correct on_hand by a signed `quantity` (count difference, damage, loss).

    Refused when it would leave less on hand than is reserved for orders:
    release those reservations first.
    """
    data = StockAdjustment.parse({"quantity": quantity, "reason": reason,
                                  "reference": reference})
    _check_targets(product, warehouse)
    quantity = data.quantity
    with transaction.atomic(durable=True):
        level = _locked_level(product, warehouse)
        if level.on_hand + quantity < level.reserved:
            msg = _(
                "This would leave %(after)d on hand but %(reserved)d are reserved for orders; "
                "the largest possible decrease is %(max)d."
            ) % {"after": level.on_hand + quantity, "reserved": level.reserved,
                 "max": level.on_hand - level.reserved}
            raise ApplicationError(msg, field_errors={"quantity": [msg]},
                                   code="below_reserved")
        return _record(level=level, quantity=quantity, kind=StockMovement.Kind.ADJUSTMENT,
                       reason=data.reason, reference=data.reference, actor=actor)
