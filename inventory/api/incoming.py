"""Stock on its way: the units open purchase orders still bring, per
product, for the order page's backordered lines, the buying proposal and the
late-order check."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import F, Sum

from inventory.purchase_models import OPEN_PURCHASE, PurchaseOrderLine, PurchaseOrderStatus


@dataclass(frozen=True)
class Incoming:
    """Units of one product still expected on one purchase order line."""

    expected_date: date
    quantity: int
    purchase_order_id: int
    number: str
    is_draft: bool


def incoming(*, product_ids: list[int] | set[int]) -> dict[int, list[Incoming]]:
    """Per product, the units still expected on open purchase orders, the
    earliest first (drafts count: the buyer means to send them)."""
    result: dict[int, list[Incoming]] = defaultdict(list)
    rows = (PurchaseOrderLine.objects
            .filter(product_id__in=list(product_ids), purchase_order__status__in=OPEN_PURCHASE,
                    quantity_received__lt=F("quantity_ordered"))
            .order_by("product_id", "expected_date", "purchase_order_id")
            .values_list("product_id", "expected_date", "quantity_ordered",
                         "quantity_received", "purchase_order_id", "purchase_order__number",
                         "purchase_order__status"))
    for product_id, expected, ordered, received, po_id, number, status in rows:
        result[product_id].append(Incoming(
            expected_date=expected, quantity=ordered - received, purchase_order_id=po_id,
            number=number, is_draft=status == PurchaseOrderStatus.DRAFT))
    return dict(result)


def on_order(*, product_ids: list[int] | set[int]) -> dict[int, int]:
    """Per product, the units still expected on open purchase orders."""
    rows = (PurchaseOrderLine.objects
            .filter(product_id__in=list(product_ids), purchase_order__status__in=OPEN_PURCHASE,
                    quantity_received__lt=F("quantity_ordered"))
            .values("product_id")
            .annotate(units=Sum(F("quantity_ordered") - F("quantity_received"))))
    return {row["product_id"]: row["units"] for row in rows}


def covering_date(arrivals: list[Incoming], *, units_ahead: int, units: int) -> date | None:
    """When `units` waiting behind `units_ahead` others (first come, first
    served) are covered by the arrivals, earliest first; None when the open
    purchase orders do not cover them."""
    needed = units_ahead + units
    for arrival in arrivals:
        needed -= arrival.quantity
        if needed <= 0:
            return arrival.expected_date
    return None
