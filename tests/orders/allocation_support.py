"""Checks the allocation tests run after every scenario: the stock books
balance and every unit of every line is somewhere something moves it out of."""

from __future__ import annotations

from django.db.models import Sum

from inventory.models import Reservation, StockLevel, StockMovement
from orders.models import OrderLine


def assert_books_balance() -> None:
    """on_hand = the ledger, reserved = the active reservations, per level;
    and each line's units are shipped, reserved, waiting or cancelled."""
    for level in StockLevel.objects.all():
        ledger = StockMovement.objects.filter(
            product_id=level.product_id, warehouse_id=level.warehouse_id).aggregate(
            total=Sum("quantity"))["total"] or 0
        held = Reservation.objects.filter(
            product_id=level.product_id, warehouse_id=level.warehouse_id,
            status="active").aggregate(total=Sum("quantity"))["total"] or 0
        assert (level.on_hand, level.reserved) == (ledger, held), level
        assert 0 <= level.reserved <= level.on_hand
    for line in OrderLine.objects.select_related("order"):
        if line.order.status in ("draft", "placed", "on_hold", "expired", "cancelled"):
            continue
        by_status = dict(Reservation.objects.filter(order_line_id=line.pk)
                         .values_list("status").annotate(total=Sum("quantity")))
        accounted = (by_status.get("consumed", 0) + by_status.get("active", 0)
                     + line.backordered_quantity + line.cancelled_quantity)
        assert accounted == line.quantity, (line, by_status, line.backordered_quantity)
