"""Reads behind the manager dashboard's charts: one aggregate query per chart.

- orders and revenue per day (last 30 days) or week (last 12 weeks), with the
  period before beside them: a range on `placed_at` (orders_placed_idx),
  grouped by local day or week and currency;
- orders by channel, in the same two periods;
- how long each step of the cycle takes (placement -> approval -> shipment ->
  invoice -> payment), as a distribution over orders placed in the last 60
  days, from their status-change events;
- receivables aging: unsettled invoices by days past due, per currency;
- the share of orders shipped by their promised date, per week.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, cast

from django.db import connection
from django.db.models import Count, DateField, F, Q, Sum
from django.db.models.functions import Trunc, TruncDate
from django.utils import timezone
from django.utils.dateformat import format as date_text
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import UNSETTLED_STATUSES, Invoice
from oms.lib.money import format_money
from orders.models import Channel, EventKind, Order, OrderStatus
from reporting.charts import Chart, Series, percent_text

NOT_SOLD = (OrderStatus.CANCELLED.value, OrderStatus.EXPIRED.value)
# How many buckets each view shows; the period before has as many.
PERIODS = {"day": 30, "week": 12}
PERIOD_CHOICES = [("day", gettext_lazy("By day")), ("week", gettext_lazy("By week"))]
STAGE_DAYS = 60
ON_TIME_WEEKS = 12
# Upper bounds of the duration buckets, in hours: <1 h, 1-8 h, 8-24 h, 1-3 d, 3-7 d, 7-30 d, more.
STAGE_BOUNDS = [1, 8, 24, 72, 168, 720]
AGING_BOUNDS = [0, 30, 60, 90]  # days past due: not due, 1-30, 31-60, 61-90, over 90


@dataclass(frozen=True)
class Trends:
    by: str
    orders: Chart
    revenue: list[Chart]  # one per currency sold in
    channels: Chart
    stages: Chart
    aging: Chart
    on_time: Chart


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def bucket_starts(today: date, by: str) -> list[date]:
    """The first day of each bucket of the period before and of the current
    period, oldest first (twice PERIODS[by] of them)."""
    count = 2 * PERIODS[by]
    if by == "day":
        return [today - timedelta(days=count - 1 - index) for index in range(count)]
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=count - 1 - index) for index in range(count)]


def _day_label(day: date) -> str:
    return date_text(day, "j M")


def sales(*, today: date, by: str) -> tuple[Chart, list[Chart], Chart]:
    """Orders per bucket, net revenue per bucket and currency, and orders per
    channel: this period against the one before. Two queries."""
    starts = bucket_starts(today, by)
    half = PERIODS[by]
    current_start = _start_of(starts[half])
    placed = Order.objects.filter(placed_at__gte=_start_of(starts[0])).order_by()
    rows = (placed.annotate(bucket=Trunc("placed_at", by, output_field=DateField()))
            .values("bucket", "currency")
            .annotate(orders=Count("pk"), net=Sum("total_net", filter=~Q(status__in=NOT_SOLD))))
    position = {start: index for index, start in enumerate(starts)}
    orders = [0] * (2 * half)
    revenue: dict[str, list[Decimal]] = {}
    for row in rows:
        index = position[row["bucket"]]
        orders[index] += row["orders"]
        revenue.setdefault(row["currency"], [Decimal(0)] * (2 * half))[index] += (
            row["net"] or Decimal(0))
    categories = [_day_label(start) for start in starts[half:]]
    this, before = _("This period"), _("Period before")
    unit = _("day") if by == "day" else _("week starting")
    orders_chart = Chart(
        key="orders", kind="lines", categories=categories, category_title=unit,
        title=_("Orders placed per day") if by == "day" else _("Orders placed per week"),
        series=[Series(this, orders[half:]), Series(before, orders[:half], dashed=True)])
    revenue_charts = [Chart(
        key=f"revenue-{currency.lower()}", kind="lines", categories=categories,
        category_title=unit,
        title=_("Net revenue in %(currency)s") % {"currency": currency},
        caption=_("cancelled and expired orders excluded"),
        series=[Series(this, values[half:], text=_money(currency)),
                Series(before, values[:half], text=_money(currency), dashed=True)])
        for currency, values in sorted(revenue.items())]

    by_channel = {channel: (current, previous) for channel, current, previous in (
        placed.values("channel").annotate(
            current=Count("pk", filter=Q(placed_at__gte=current_start)),
            previous=Count("pk", filter=Q(placed_at__lt=current_start)))
        .values_list("channel", "current", "previous"))}
    channels = Chart(
        key="channels", kind="bars", title=_("Orders by channel"),
        category_title=_("Channel"), categories=[str(label) for _value, label in Channel.choices],
        series=[Series(this, [by_channel.get(value, (0, 0))[0]
                              for value, _label in Channel.choices]),
                Series(before, [by_channel.get(value, (0, 0))[1]
                                for value, _label in Channel.choices])])
    return orders_chart, revenue_charts, channels


def _money(currency: str):
    return lambda value: format_money(Decimal(value), currency)


STAGES_SQL = """
WITH reached AS (
    SELECT o.placed_at,
           min(e.created_at) FILTER (WHERE e.to_status = ANY(%(approved)s)) AS approved_at,
           min(e.created_at) FILTER (WHERE e.to_status = %(shipped)s) AS shipped_at,
           min(e.created_at) FILTER (WHERE e.to_status = %(invoiced)s) AS invoiced_at,
           min(e.created_at) FILTER (WHERE e.to_status = %(paid)s) AS paid_at
    FROM orders_order o
    JOIN orders_orderevent e ON e.order_id = o.id AND e.kind = %(kind)s
    WHERE o.placed_at >= %(since)s AND o.placed_at < %(until)s
    GROUP BY o.id
), steps AS (
    SELECT 0 AS step, approved_at - placed_at AS took FROM reached
    UNION ALL SELECT 1, shipped_at - approved_at FROM reached
    UNION ALL SELECT 2, invoiced_at - shipped_at FROM reached
    UNION ALL SELECT 3, paid_at - invoiced_at FROM reached
)
SELECT step, width_bucket(extract(epoch FROM took) / 3600, %(bounds)s::float8[]), count(*)
FROM steps WHERE took IS NOT NULL GROUP BY 1, 2
"""


def stage_durations(*, today: date, since: datetime | None = None,
                    until: datetime | None = None) -> Chart:
    """How many orders took how long at each step of the cycle: orders placed
    in [since, until), by default the last STAGE_DAYS days."""
    with connection.cursor() as cursor:
        cursor.execute(STAGES_SQL, {
            "approved": [OrderStatus.RESERVED.value, OrderStatus.BACKORDERED.value],
            "shipped": OrderStatus.SHIPPED.value, "invoiced": OrderStatus.INVOICED.value,
            "paid": OrderStatus.PAID.value, "kind": EventKind.STATUS_CHANGED.value,
            "since": since or _start_of(today - timedelta(days=STAGE_DAYS)),
            "until": until or _start_of(today + timedelta(days=1)), "bounds": STAGE_BOUNDS})
        found = {(step, bucket): count for step, bucket, count in cursor.fetchall()}
    buckets = [_("under 1 h"), _("1–8 h"), _("8–24 h"), _("1–3 days"), _("3–7 days"),
               _("7–30 days"), _("over 30 days")]
    steps = [_("Placement to approval"), _("Approval to shipment"), _("Shipment to invoice"),
             _("Invoice to payment")]
    return Chart(
        key="stages", kind="bars", categories=buckets, category_title=_("Time taken"),
        title=_("How long each step takes"),
        caption="" if since else _("orders placed in the last %(days)s days") % {
            "days": STAGE_DAYS},
        series=[Series(label, [found.get((step, bucket), 0) for bucket in range(len(buckets))])
                for step, label in enumerate(steps)],
        colours=["#2563eb", "#f59e0b", "#10b981", "#8b5cf6"])


def receivables_aging(*, today: date) -> Chart:
    """What customers still owe, by days past due, one series per currency."""
    outstanding = F("total_gross") - F("amount_paid") - F("amount_credited")
    due_by = [today - timedelta(days=days) for days in AGING_BOUNDS]
    ranges = [Q(due_date__gte=due_by[0])] + [
        Q(due_date__lt=due_by[index], due_date__gte=due_by[index + 1])
        for index in range(len(due_by) - 1)] + [Q(due_date__lt=due_by[-1])]
    sums = {f"b{index}": Sum(outstanding, filter=q) for index, q in enumerate(ranges)}
    rows = cast(Iterable[dict[str, Any]], (  # the stubs cannot type **sums
        Invoice.objects.filter(status__in=UNSETTLED_STATUSES).order_by()
        .values("currency").annotate(**sums).order_by("currency")))
    return Chart(
        key="aging", kind="bars", title=_("Receivables by days past due"),
        category_title=_("Days past due"),
        categories=[_("not due"), "1–30", "31–60", "61–90", _("over 90")],
        series=[Series(row["currency"], [row[f"b{index}"] or Decimal(0)
                                         for index in range(len(ranges))],
                       text=_money(row["currency"])) for row in rows],
        colours=["#2563eb", "#f59e0b", "#10b981", "#8b5cf6"])


def on_time_shipping(*, today: date) -> Chart:
    """Per week: the share of orders shipped by their promised delivery date
    (orders without a promised date count as on time)."""
    weeks = bucket_starts(today, "week")[-ON_TIME_WEEKS:]
    rows = (Order.objects.filter(shipped_at__gte=_start_of(weeks[0])).order_by()
            .annotate(week=Trunc("shipped_at", "week", output_field=DateField()),
                      shipped_day=TruncDate("shipped_at"))
            .values("week")
            .annotate(shipped=Count("pk"), on_time=Count("pk", filter=Q(
                promised_delivery_date__isnull=True) | Q(
                shipped_day__lte=F("promised_delivery_date")))))
    found = {row["week"]: row for row in rows}
    rates = [100 * found[week]["on_time"] / found[week]["shipped"] if week in found else None
             for week in weeks]
    return Chart(
        key="on-time", kind="bars", title=_("Shipped by the promised date"),
        category_title=_("week starting"), categories=[_day_label(week) for week in weeks],
        series=[Series(_("On time"), rates, text=percent_text)], ceiling=100,
        axis_text=percent_text)


def orders_per_day(*, start: datetime, end: datetime, zone: tzinfo) -> Chart:
    """Orders placed per local day in [start, end): a report's period."""
    rows = dict(Order.objects.filter(placed_at__gte=start, placed_at__lt=end).order_by()
                .annotate(day=TruncDate("placed_at", tzinfo=zone)).values("day")
                .annotate(n=Count("pk")).values_list("day", "n"))
    first, last = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(
        zone).date()
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    return Chart(key="orders-per-day", kind="bars", title=_("Orders placed per day"),
                 category_title=_("day"), categories=[_day_label(day) for day in days],
                 series=[Series(_("Orders"), [rows.get(day, 0) for day in days])])


def trends(*, by: str = "day", now: datetime | None = None) -> Trends:
    today = timezone.localdate(now or timezone.now())
    orders, revenue, channels = sales(today=today, by=by)
    return Trends(by=by, orders=orders, revenue=revenue, channels=channels,
                  stages=stage_durations(today=today), aging=receivables_aging(today=today),
                  on_time=on_time_shipping(today=today))
