"""Margin reads: net revenue minus the cost snapshot of the lines sold.

A line's margin is `line_net - unit_cost * quantity` in the order's
currency; a line whose cost is unknown (`unit_cost` null) has no margin.
Sums keep such lines apart: `Margin.net` and `cost` cover the lines with a
known cost only and `unknown_net` says how much revenue the margin leaves
out, so a missing cost never shows as a 100 % margin.

Every aggregate is one GROUP BY query, per currency (amounts in different
currencies are never added up).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum

from oms.lib.money import ZERO
from orders.models import Order, OrderLine, OrderStatus

# Orders that count as sold: placed, neither cancelled nor left to expire.
NOT_SOLD = (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
GROUPINGS = {"product": ("product_id", "sku", "name"),
             "customer": ("order__customer_id", "order__customer__name")}
_LINE_COST = ExpressionWrapper(F("unit_cost") * F("quantity"),
                               output_field=DecimalField(max_digits=20, decimal_places=2))
_KNOWN = Q(unit_cost__isnull=False)


@dataclass(frozen=True)
class Margin:
    currency: str
    net: Decimal  # net revenue of the lines with a known cost
    cost: Decimal
    unknown_net: Decimal = ZERO  # net revenue of the lines with no cost known
    unknown_lines: int = 0

    @property
    def margin(self) -> Decimal:
        return self.net - self.cost

    @property
    def percent(self) -> Decimal | None:
        """The margin as a share of the net it covers; None with no such net."""
        return None if not self.net else self.margin * 100 / self.net


def line_margin(line: OrderLine) -> Decimal | None:
    """The line's margin in its order's currency; None when its cost is unknown."""
    if line.unit_cost is None:
        return None
    return line.line_net - line.unit_cost * line.quantity


def order_margin(order: Order) -> Margin:
    """The order's margin from its lines (prefetched ones when there are)."""
    lines = list(order.lines.all())
    known = [line for line in lines if line.unit_cost is not None]
    unknown = [line for line in lines if line.unit_cost is None]
    return Margin(currency=order.currency, net=sum((line.line_net for line in known), ZERO),
                  cost=sum((line.unit_cost * line.quantity for line in known
                            if line.unit_cost is not None), ZERO),
                  unknown_net=sum((line.line_net for line in unknown), ZERO),
                  unknown_lines=len(unknown))


def _aggregated(rows: Iterable[dict[str, Any]]) -> list[tuple[dict[str, Any], Margin]]:
    return [(row, Margin(currency=row["order__currency"], net=row["known_net"] or ZERO,
                         cost=row["cost"] or ZERO, unknown_net=row["unknown_net"] or ZERO,
                         unknown_lines=row["unknown_lines"]))
            for row in rows]


def sold_margins(*, placed_from: datetime, placed_to: datetime | None = None,
                 by: str | None = None) -> list[tuple[dict[str, Any], Margin]]:
    """Margins of the lines of orders sold in [placed_from, placed_to), per
    currency and, with `by` ("product" or "customer"), per product or
    customer: (the group's columns, its Margin) pairs, one query."""
    lines = OrderLine.objects.filter(order__placed_at__gte=placed_from).exclude(
        order__status__in=NOT_SOLD)
    if placed_to is not None:
        lines = lines.filter(order__placed_at__lt=placed_to)
    columns = ("order__currency", *GROUPINGS.get(by or "", ()))
    rows = (lines.order_by().values(*columns)
            .annotate(known_net=Sum("line_net", filter=_KNOWN), cost=Sum(_LINE_COST),
                      unknown_net=Sum("line_net", filter=~_KNOWN),
                      unknown_lines=Count("pk", filter=~_KNOWN))
            .order_by(*columns))
    return _aggregated(rows)
