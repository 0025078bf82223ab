"""Orders that cannot be delivered on time: an order waiting for stock whose
promised delivery date the stock on its way cannot meet (nothing ordered
covers it, or the purchase order that does arrives too late, e.g. because
it slipped).

`late_orders` lists them with the reason for Sales and managers;
`notify_late_orders` (a beat task) tells each customer the new date once per
date, through the orders e-mail, which the order timeline records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from oms.lib import outbox
from orders.backorders import WaitingLine, expected_dates, waiting_lines
from orders.models import Order
from orders.services import EMAIL_HANDLER

NO_PURCHASE_ORDER = "no_purchase_order"
ARRIVES_TOO_LATE = "arrives_too_late"


@dataclass
class LateOrder:
    order: Order
    promised: date
    # When the last missing unit is expected; None: nothing ordered covers it.
    expected: date | None
    lines: list[tuple[WaitingLine, date | None]]

    @property
    def reason(self) -> str:
        return NO_PURCHASE_ORDER if self.expected is None else ARRIVES_TOO_LATE

    @property
    def reason_text(self) -> str:
        if self.expected is None:
            return _("No stock and no purchase order covers the missing units.")
        return _("The stock that covers it is expected on %(date)s, after the promised "
                 "date.") % {"date": date_format(self.expected, "SHORT_DATE_FORMAT")}


def late_orders() -> list[LateOrder]:
    """Waiting orders with a promised date that the expected stock misses,
    the earliest promise first."""
    queue = waiting_lines()
    dates = expected_dates(waiting=queue)
    by_order: dict[int, list[WaitingLine]] = defaultdict(list)
    for line in queue:
        if line.promised_delivery_date is not None:
            by_order[line.order_id].append(line)
    orders = Order.objects.select_related("customer").in_bulk(list(by_order))
    late = []
    for order_id, lines in by_order.items():
        expected_per_line = [dates[line.line_id] for line in lines]
        expected = (None if any(day is None for day in expected_per_line)
                    else max(day for day in expected_per_line if day is not None))
        promised = lines[0].promised_delivery_date
        assert promised is not None
        if expected is None or expected > promised:
            late.append(LateOrder(order=orders[order_id], promised=promised, expected=expected,
                                  lines=list(zip(lines, expected_per_line, strict=True))))
    return sorted(late, key=lambda item: (item.promised, item.order.pk))


def notify_late_orders() -> int:
    """E-mail each late order's customer its new date (or that it is not known
    yet), once per order and date; returns how many e-mails were queued."""
    queued = 0
    with transaction.atomic():
        for item in late_orders():
            new_date = item.expected.isoformat() if item.expected else ""
            row = outbox.enqueue(EMAIL_HANDLER, {
                "order_id": item.order.pk, "kind": "delayed", "reason": item.reason,
                "extra": {"promised": item.promised.isoformat(), "new_date": new_date}},
                dedup_key=f"orders:delayed:{item.order.pk}:{new_date or 'unknown'}")
            queued += row is not None
    return queued
