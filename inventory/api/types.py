"""Plain data the inventory API takes and returns, and its stock refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from oms.lib.errors import ApplicationError


@dataclass(frozen=True)
class LineRequest:
    order_line_id: int
    product_id: int
    quantity: int


@dataclass(frozen=True)
class ReservationInfo:
    order_line_id: int
    product_id: int
    warehouse_id: int
    quantity: int
    kind: str
    expires_at: datetime | None


@dataclass(frozen=True)
class Shortage:
    product_id: int
    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class WarehouseAvailability:
    warehouse_id: int
    code: str
    on_hand: int
    reserved: int
    available: int


@dataclass(frozen=True)
class ProductInfo:
    id: int
    sku: str
    name: str
    unit_price: Decimal
    tax_rate: Decimal
    is_active: bool
    weight_kg: Decimal
    is_fragile: bool
    # The release date; ordered before it, a line is a pre-order.
    available_from: date | None = None
    # What one unit costs us per currency of purchase (inventory.ProductCost).
    costs: dict[str, Decimal] = field(default_factory=dict)
    tax_category: str = "standard"

    def is_preorder_on(self, day: date) -> bool:
        return self.available_from is not None and day < self.available_from


class InsufficientStock(ApplicationError):
    """Some line cannot be fully held; nothing was reserved."""

    status = 409

    def __init__(self, shortages: list[Shortage]):
        self.shortages = shortages
        details = "; ".join(
            _("%(sku)s: requested %(requested)d, available %(available)d")
            % {"sku": s.sku, "requested": s.requested, "available": s.available}
            for s in shortages
        )
        super().__init__(_("Not enough stock. %(details)s") % {"details": details},
                         code="insufficient_stock")
