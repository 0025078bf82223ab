"""Writes of the inventory app done by the back office: stock receipts and
adjustments.

Each service changes `StockLevel.on_hand` and writes the matching
`StockMovement` row in one transaction, so the ledger always sums to the
stock level. Reservations (the order side) live in `inventory.api`.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.api import lock_stock_levels
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError


def _check_quantity(quantity: object, *, allow_negative: bool) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise ApplicationError(_("Enter a whole number."),
                               field_errors={"quantity": [_("Enter a whole number.")]})
    if allow_negative and quantity == 0:
        msg = _("An adjustment cannot be zero.")
        raise ApplicationError(msg, field_errors={"quantity": [msg]})
    if not allow_negative and quantity <= 0:
        msg = _("Enter a quantity greater than zero.")
        raise ApplicationError(msg, field_errors={"quantity": [msg]})


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
    _check_quantity(quantity, allow_negative=False)
    _check_targets(product, warehouse)
    with transaction.atomic(durable=True):
        level = _locked_level(product, warehouse)
        return _record(level=level, quantity=quantity, kind=StockMovement.Kind.RECEIPT,
                       reason=reason or _("Goods received"), reference=reference, actor=actor)


def adjust_stock(*, product: Product, warehouse: Warehouse, quantity: int, reason: str,
                 actor: Actor, reference: str = "") -> StockMovement:
    """Correct on_hand by a signed `quantity` (count difference, damage, loss).

    Refused when it would leave less on hand than is reserved for orders:
    release those reservations first.
    """
    _check_quantity(quantity, allow_negative=True)
    _check_targets(product, warehouse)
    if not (reason or "").strip():
        msg = _("Say why the stock is adjusted.")
        raise ApplicationError(msg, field_errors={"reason": [msg]})
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
                       reason=reason.strip(), reference=reference, actor=actor)
