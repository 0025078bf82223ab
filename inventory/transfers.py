"""Stock transfers between warehouses (back office).

A transfer moves available units of one product from one warehouse to
another in one transaction: both stock levels are locked in primary-key
order (`lock_stock_levels`), the source must have the units available (on
hand minus reserved: units reserved for orders never move), and the ledger
gets two rows with the transfer's reference, `transfer_out` (negative) and
`transfer_in` (positive), so each level still equals the sum of its ledger.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BeforeValidator, model_validator

from inventory.api.locks import lock_stock_levels
from inventory.models import Product, StockLevel, StockMovement, StockTransfer, Warehouse
from inventory.services import _received
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.validation import Input, LongText


def _an_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(_("Choose one."))
    return value


class TransferStock(Input):
    """Move `quantity` units of `product` from one warehouse to another."""

    product: Annotated[int, BeforeValidator(_an_id)]
    from_warehouse: Annotated[int, BeforeValidator(_an_id)]
    to_warehouse: Annotated[int, BeforeValidator(_an_id)]
    quantity: Annotated[int, BeforeValidator(_received)]
    note: Annotated[str, LongText(200)] = ""

    @model_validator(mode="after")
    def _two_warehouses(self) -> Self:
        if self.from_warehouse == self.to_warehouse:
            raise ValueError(_("Choose a warehouse other than the one the stock leaves."))
        return self

    @classmethod
    def parse(cls, data: Any, *, prefix: str = "") -> Self:
        try:
            return super().parse(data, prefix=prefix)
        except ApplicationError as error:
            # The cross-field rule is about the destination.
            if "__all__" in error.field_errors:
                error.field_errors[f"{prefix}to_warehouse"] = error.field_errors.pop("__all__")
            raise


def _refuse(field: str, message: str, code: str = "invalid") -> ApplicationError:
    return ApplicationError(message, field_errors={field: [message]}, code=code)


def transfer_stock(data: TransferStock, *, actor: Actor) -> StockTransfer:
    """Move available units between two warehouses; writes the transfer and
    its two ledger rows, or nothing with a field error."""
    product = Product.objects.filter(pk=data.product).first()
    if product is None:
        raise _refuse("product", _("This product does not exist."))
    warehouses = Warehouse.objects.in_bulk([data.from_warehouse, data.to_warehouse])
    for field in ("from_warehouse", "to_warehouse"):
        warehouse = warehouses.get(getattr(data, field))
        if warehouse is None:
            raise _refuse(field, _("This warehouse does not exist."))
        if not warehouse.is_active:
            raise _refuse(field, _("Warehouse %(code)s is closed.") % {"code": warehouse.code})
    source, target = warehouses[data.from_warehouse], warehouses[data.to_warehouse]
    with transaction.atomic(durable=True):
        StockLevel.objects.bulk_create(
            [StockLevel(product=product, warehouse=target)], ignore_conflicts=True)
        levels = {level.warehouse_id: level for level in lock_stock_levels(
            product=product, warehouse_id__in=[source.pk, target.pk])}
        out = levels.get(source.pk)
        available = out.available if out else 0
        if data.quantity > available:
            raise _refuse("quantity", _(
                "Only %(available)d of %(sku)s are available in %(code)s (units reserved "
                "for orders do not move).") % {"available": max(available, 0),
                                                "sku": product.sku, "code": source.code},
                code="not_available")
        transfer = StockTransfer.objects.create(
            product=product, from_warehouse=source, to_warehouse=target,
            quantity=data.quantity, note=data.note,
            actor=actor if getattr(actor, "pk", None) else None)
        now = timezone.now()
        for warehouse_id, change in ((source.pk, -data.quantity), (target.pk, data.quantity)):
            StockLevel.objects.filter(pk=levels[warehouse_id].pk).update(
                on_hand=F("on_hand") + change, updated_at=now)
        reason = data.note or _("Transfer %(from)s → %(to)s") % {"from": source.code,
                                                                 "to": target.code}
        StockMovement.objects.bulk_create([
            StockMovement(product=product, warehouse=source, quantity=-data.quantity,
                          kind=StockMovement.Kind.TRANSFER_OUT, reason=reason[:200],
                          reference=transfer.reference, actor=transfer.actor),
            StockMovement(product=product, warehouse=target, quantity=data.quantity,
                          kind=StockMovement.Kind.TRANSFER_IN, reason=reason[:200],
                          reference=transfer.reference, actor=transfer.actor),
        ])
        return transfer
