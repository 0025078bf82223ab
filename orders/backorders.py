"""The backorder queue: order lines waiting for stock, in the order
`allocate_waiting` serves them (priority, then first come, first served),
and when the stock that covers each of them is expected (stock free now,
then open purchase orders by date).

Reads only. The order page shows the expected date next to a backordered
line; the buying proposal and the late-order check build on the queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import F, Sum
from django.utils import timezone

from inventory import api as inventory_api
from inventory.models import StockLevel
from orders.models import CLOSED, Order, OrderLine, OrderStatus


@dataclass(frozen=True)
class WaitingLine:
    order_id: int
    number: str
    line_id: int
    product_id: int
    sku: str
    units: int
    placed_at: datetime | None
    promised_delivery_date: date | None


def waiting_lines(*, product_ids: list[int] | set[int] | None = None) -> list[WaitingLine]:
    """Every line still waiting for units (`backordered_quantity`), in the
    order `allocate_waiting` serves them: priority, then placed earliest,
    then order and position."""
    lines = (OrderLine.objects.select_related("order")
             .filter(backordered_quantity__gt=0)
             .exclude(order__status__in=[*CLOSED, OrderStatus.DRAFT])
             .order_by("-order__priority", F("order__placed_at").asc(nulls_last=True),
                       "order_id", "position"))
    if product_ids is not None:
        lines = lines.filter(product_id__in=list(product_ids))
    return [WaitingLine(order_id=line.order_id, number=line.order.number, line_id=line.pk,
                        product_id=line.product_id, sku=line.sku,
                        units=line.backordered_quantity, placed_at=line.order.placed_at,
                        promised_delivery_date=line.order.promised_delivery_date)
            for line in lines]


def waiting_units(*, product_ids: list[int] | set[int] | None = None) -> dict[int, int]:
    """Per product, the units the backorder queue waits for."""
    totals: dict[int, int] = defaultdict(int)
    for line in waiting_lines(product_ids=product_ids):
        totals[line.product_id] += line.units
    return dict(totals)


def expected_dates(*, waiting: list[WaitingLine]) -> dict[int, date | None]:
    """Per waiting line id, the day the stock that covers it is expected:
    today for units free in stock now, else the date of the open purchase
    order whose units reach it in queue order; None when nothing ordered
    covers it. `waiting` must be the whole queue of its products."""
    product_ids = {line.product_id for line in waiting}
    arrivals = inventory_api.incoming(product_ids=product_ids)
    free = dict(StockLevel.objects.filter(product_id__in=product_ids)
                .values("product_id").annotate(units=Sum("on_hand") - Sum("reserved"))
                .values_list("product_id", "units"))
    today = timezone.localdate()
    ahead: dict[int, int] = defaultdict(int)
    result: dict[int, date | None] = {}
    for line in waiting:
        stock_now = max(free.get(line.product_id, 0), 0)
        sources = ([inventory_api.Incoming(expected_date=today, quantity=stock_now,
                                           purchase_order_id=0, number="", is_draft=False)]
                   if stock_now else []) + arrivals.get(line.product_id, [])
        result[line.line_id] = inventory_api.covering_date(
            sources, units_ahead=ahead[line.product_id], units=line.units)
        ahead[line.product_id] += line.units
    return result


def backorder_expected_dates(*, order: Order) -> dict[int, date | None]:
    """Per order line id of `order` that waits for stock, when the stock that
    covers it is expected (None: no purchase order covers it yet). For the
    order page and the customer e-mails."""
    product_ids = set(order.lines.values_list("product_id", flat=True))
    queue = waiting_lines(product_ids=product_ids)
    if not any(line.order_id == order.pk for line in queue):
        return {}
    dates = expected_dates(waiting=queue)
    return {line.line_id: dates[line.line_id] for line in queue if line.order_id == order.pk}


def expected_arrival_per_product(product_ids: Collection[int]) -> dict[int, date]:
    """Per product, the day the stock covering every unit its queue waits
    for is expected (free stock now, then open purchase orders by date);
    products the orders placed do not cover are absent. The customer
    e-mails' "to follow" date: never earlier than any waiting line's."""
    queue = waiting_lines(product_ids=set(product_ids))
    dates = expected_dates(waiting=queue)
    result: dict[int, date] = {}
    missing: set[int] = set()
    for line in queue:
        day = dates[line.line_id]
        if day is None:
            missing.add(line.product_id)
        elif line.product_id not in result or day > result[line.product_id]:
            result[line.product_id] = day
    return {pk: day for pk, day in result.items() if pk not in missing}
