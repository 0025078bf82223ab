"""Reads of the manager dashboard: a handful of aggregate queries.

Every figure is computed by PostgreSQL (COUNT/SUM/AVG with FILTER, GROUP BY);
nothing loops over orders in Python, so the dashboard costs the same few
queries with ten orders or a million. Each query is bounded by an index:

- orders placed today / this week / this month: a range on `placed_at`
  (orders_placed_idx);
- open orders by status: `status IN (...)` on orders_status_created_idx; the
  ever-growing terminal states (paid, cancelled, expired) only for the last
  30 days;
- lead times: OrderEvent rows of the milestone transitions (to shipped, to
  paid) in the window, on reporting's partial index
  reporting_event_milestone_idx (reporting/migrations/0002), joined to
  their order's placed_at through reporting_order_placed_cover_idx (0004);
  about 0.25 s for the whole dashboard at a million orders (34,000 shipped in
  the 30-day window);
- overdue receivables: billing's open invoices past their due date;
- this month's margin: the lines of the orders placed this month, one
  GROUP BY currency (orders.margins);
- low stock: inventory's own selector (stock levels, not orders);
- customer ratings: one GROUP BY week over the last FEEDBACK_WEEKS weeks of
  answers and the worst few of them (orders_feedback_recent_idx).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from django.db.models import Aggregate, Avg, Count, F, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from billing.models import UNSETTLED_STATUSES, Invoice
from inventory import selectors as inventory_selectors
from inventory.models import StockLevel
from orders.margins import Margin, sold_margins
from orders.models import EventKind, Order, OrderEvent, OrderFeedback, OrderStatus

# States that end an order's life: counted over a recent window only, so the
# status breakdown does not scan every order ever taken.
TERMINAL_STATUSES = (OrderStatus.PAID.value, OrderStatus.CANCELLED.value,
                     OrderStatus.EXPIRED.value)
# States whose orders count as sold (revenue): everything placed that was not
# cancelled or left to expire. Drafts have no placed_at and never match.
NOT_SOLD = (OrderStatus.CANCELLED.value, OrderStatus.EXPIRED.value)
# Lead times run from placement to these statuses (reporting_event_milestone_idx).
MILESTONES = (OrderStatus.SHIPPED.value, OrderStatus.PAID.value)
RECENT_DAYS = 30
LEAD_TIME_DAYS = 30
LOW_STOCK_LIMIT = 10
FEEDBACK_WEEKS = 8
FEEDBACK_WORST = 5
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Revenue:
    currency: str
    net_today: Decimal
    gross_today: Decimal
    net_week: Decimal
    gross_week: Decimal
    net_month: Decimal
    gross_month: Decimal


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int
    terminal: bool  # counted over the last RECENT_DAYS only


@dataclass(frozen=True)
class LeadTime:
    milestone: str  # "shipped" | "paid"
    average: timedelta | None
    orders: int

    @property
    def hours(self) -> float | None:
        return None if self.average is None else self.average.total_seconds() / 3600

    @property
    def minutes(self) -> float | None:
        return None if self.average is None else self.average.total_seconds() / 60

    @property
    def days(self) -> float | None:
        return None if self.average is None else self.average.total_seconds() / 86400


@dataclass(frozen=True)
class Overdue:
    currency: str
    amount: Decimal
    invoices: int


@dataclass(frozen=True)
class RatingWeek:
    week_start: date
    answers: int
    average: Decimal | None  # None: no answer that week


@dataclass(frozen=True)
class Ratings:
    """The customers' ratings of their delivered orders over the last weeks."""

    weeks: list[RatingWeek]  # oldest first, every week of the window
    answers: int
    average: Decimal | None
    worst: list[OrderFeedback]  # lowest rating first, then newest

    @property
    def highest_week(self) -> int:
        return max((week.answers for week in self.weeks), default=0)


@dataclass(frozen=True)
class ManagerDashboard:
    today: datetime
    week_start: datetime
    month_start: datetime
    orders_today: int
    orders_week: int
    orders_month: int
    revenue: list[Revenue]
    statuses: list[StatusCount]
    lead_times: dict[str, LeadTime]
    lead_time_days: int
    recent_days: int
    overdue: list[Overdue]
    low_stock: list[StockLevel] = field(default_factory=list)
    # This month's margin per currency (orders.margins).
    margins: list[Margin] = field(default_factory=list)
    ratings: Ratings | None = None


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def period_starts(now: datetime | None = None) -> tuple[datetime, datetime, datetime]:
    """Start of today, of this week (Monday) and of this month, local time."""
    today = timezone.localdate(now or timezone.now())
    return (_start_of(today), _start_of(today - timedelta(days=today.weekday())),
            _start_of(today.replace(day=1)))


def placed_orders_summary(*, now: datetime | None = None) -> tuple[dict[str, int], list[Revenue]]:
    """Orders placed today / this week / this month and their revenue per
    currency (net and gross, cancelled and expired orders excluded). One
    query over the placed_at range since the earlier of week and month start."""
    today, week, month = period_starts(now)
    starts = {"today": today, "week": week, "month": month}
    sold = ~Q(status__in=NOT_SOLD)
    aggregates: dict[str, Aggregate] = {}
    for name, start in starts.items():
        placed = Q(placed_at__gte=start)
        aggregates[f"n_{name}"] = Count("pk", filter=placed)
        aggregates[f"net_{name}"] = Sum("total_net", filter=placed & sold)
        aggregates[f"gross_{name}"] = Sum("total_gross", filter=placed & sold)
    rows = cast(Iterable[dict[str, Any]], Order.objects.filter(
        placed_at__gte=min(week, month)).order_by().values("currency")
        .annotate(**aggregates).order_by("currency"))  # the stubs cannot type **aggregates
    counts = dict.fromkeys(starts, 0)
    revenue = []
    for row in rows:  # one row per currency, not per order
        for name in starts:
            counts[name] += row[f"n_{name}"]
        revenue.append(Revenue(currency=row["currency"], **{
            f"{kind}_{name}": row[f"{kind}_{name}"] or ZERO
            for name in starts for kind in ("net", "gross")}))
    return counts, revenue


def _status_label(value: str) -> str:
    labels = dict(OrderStatus.choices)
    return str(labels.get(value, value.replace("_", " ").capitalize()))


def orders_by_status(*, now: datetime | None = None) -> list[StatusCount]:
    """Open orders per state (all of them) and terminal ones of the last
    RECENT_DAYS (by creation), in the order of the state machine."""
    since = (now or timezone.now()) - timedelta(days=RECENT_DAYS)
    order_of_states = [value for value, _label in OrderStatus.choices]
    open_states = [s for s in order_of_states if s not in TERMINAL_STATUSES]
    rows = (Order.objects.filter(Q(status__in=open_states)
                                 | Q(status__in=TERMINAL_STATUSES, created_at__gte=since))
            .order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))
    counts = dict(rows)
    ordered = order_of_states + [s for s in TERMINAL_STATUSES if s not in order_of_states]
    return [StatusCount(status=s, label=_status_label(s), count=counts.get(s, 0),
                        terminal=s in TERMINAL_STATUSES)
            for s in ordered if s in counts or s not in TERMINAL_STATUSES]


def lead_times(*, now: datetime | None = None, days: int = LEAD_TIME_DAYS) -> dict[str, LeadTime]:
    """Average time from placement to shipment and to payment, over the
    orders that reached that milestone in the last `days` days: the
    milestone's status-change OrderEvent minus the order's placed_at."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (OrderEvent.objects
            .filter(kind=EventKind.STATUS_CHANGED, to_status__in=MILESTONES,
                    created_at__gte=since, order__placed_at__isnull=False)
            .order_by().values("to_status")
            .annotate(average=Avg(F("created_at") - F("order__placed_at")),
                      orders=Count("order_id", distinct=True)))
    found: dict[str, Any] = {row["to_status"]: row for row in rows}
    return {milestone: LeadTime(milestone=milestone,
                                average=found.get(milestone, {}).get("average"),
                                orders=found.get(milestone, {}).get("orders", 0))
            for milestone in MILESTONES}


def overdue_receivables(*, now: datetime | None = None) -> list[Overdue]:
    """Per currency: the outstanding amount of unsettled invoices past their
    due date (open or partially paid; paid and credited parts subtracted).
    Reads billing's partial index on unsettled invoices by due date."""
    today = timezone.localdate(now or timezone.now())
    rows = (Invoice.objects.filter(status__in=UNSETTLED_STATUSES, due_date__lt=today)
            .order_by().values("currency")
            .annotate(amount=Sum(F("total_gross") - F("amount_paid") - F("amount_credited")),
                      invoices=Count("pk"))
            .order_by("currency"))
    return [Overdue(currency=row["currency"], amount=row["amount"] or ZERO,
                    invoices=row["invoices"]) for row in rows]


def manager_dashboard(*, now: datetime | None = None) -> ManagerDashboard:
    now = now or timezone.now()
    today, week, month = period_starts(now)
    counts, revenue = placed_orders_summary(now=now)
    overdue = overdue_receivables(now=now)
    return ManagerDashboard(
        today=today, week_start=week, month_start=month,
        orders_today=counts["today"], orders_week=counts["week"],
        orders_month=counts["month"], revenue=revenue,
        statuses=orders_by_status(now=now), lead_times=lead_times(now=now),
        lead_time_days=LEAD_TIME_DAYS, recent_days=RECENT_DAYS,
        overdue=overdue,
        low_stock=inventory_selectors.low_stock(limit=LOW_STOCK_LIMIT),
        margins=month_margins(now=now), ratings=customer_ratings(now=now))


def _average(total: int, answers: int) -> Decimal | None:
    return (Decimal(total) / answers).quantize(Decimal("0.1")) if answers else None


def customer_ratings(*, now: datetime | None = None, weeks: int = FEEDBACK_WEEKS,
                     worst: int = FEEDBACK_WORST) -> Ratings:
    """Ratings given since the start of the week `weeks - 1` weeks ago (this
    week included), in the company's time zone: the average and the answers
    per week (one GROUP BY), and the `worst` lowest, newest first among
    equals (one query with their order and customer)."""
    today = timezone.localdate(now or timezone.now())
    first_week = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    since = _start_of(first_week)
    rows = {row["week"].date() if isinstance(row["week"], datetime) else row["week"]:
            (row["answers"], row["total"])
            for row in OrderFeedback.objects.filter(submitted_at__gte=since).order_by()
            .annotate(week=TruncWeek("submitted_at")).values("week")
            .annotate(answers=Count("pk"), total=Sum("rating"))}
    series = []
    for index in range(weeks):
        start = first_week + timedelta(weeks=index)
        answers, total = rows.get(start, (0, 0))
        series.append(RatingWeek(week_start=start, answers=answers,
                                 average=_average(total, answers)))
    answers = sum(week.answers for week in series)
    total = sum(total for _answers, total in rows.values())
    lowest = list(OrderFeedback.objects.filter(submitted_at__gte=since)
                  .select_related("order__customer").order_by("rating", "-submitted_at", "-id")
                  [:worst])
    return Ratings(weeks=series, answers=answers, average=_average(total, answers),
                   worst=lowest)


def month_margins(*, now: datetime | None = None) -> list[Margin]:
    """This month's margin per currency over the lines sold (placed since the
    start of the month, cancelled and expired orders excluded): one query
    over the same placed_at range as the revenue."""
    _today, _week, month = period_starts(now)
    return [margin for _group, margin in sold_margins(placed_from=month)]
