"""Row locks on stock levels and reservations, always in primary-key order
(the locking rule in the package docstring), and the one place that lowers
stock levels."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils import timezone

from inventory.models import Reservation, StockLevel


def lock_stock_levels(**filters: Any) -> list[StockLevel]:
    """Lock and return the matching StockLevel rows, in primary-key order.

    The single place that takes stock-row locks: one statement, ascending id,
    so two transactions touching the same rows always queue instead of
    deadlocking.
    """
    return list(
        StockLevel.objects.select_for_update(of=("self",))
        .filter(**filters)
        .order_by("pk")
    )


def lock_active_reservations(order_id: int, **filters: Any) -> list[Reservation]:
    return list(
        Reservation.objects.select_for_update()
        .filter(order_id=order_id, status=Reservation.Status.ACTIVE, **filters)
        .order_by("pk")
    )


def lower_levels(*, reserved: dict[tuple[int, int], int],
                  on_hand: dict[tuple[int, int], int]) -> None:
    """Lower `reserved` (and `on_hand` where given) per (product, warehouse);
    the stock levels are locked in one statement, in primary-key order."""
    if not reserved:
        return
    product_ids = {p for p, _w in reserved}
    warehouse_ids = {w for _p, w in reserved}
    now = timezone.now()
    for level in lock_stock_levels(product_id__in=product_ids, warehouse_id__in=warehouse_ids):
        key = (level.product_id, level.warehouse_id)
        quantity = reserved.get(key)
        if not quantity:
            continue
        changes = {"reserved": F("reserved") - quantity, "updated_at": now}
        if on_hand.get(key):
            changes["on_hand"] = F("on_hand") - on_hand[key]
        StockLevel.objects.filter(pk=level.pk).update(**changes)
