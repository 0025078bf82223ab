"""When a subscription runs and which period a run covers, in the
subscription's time zone."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from reporting.models import ReportPeriod, ReportSubscription, ScheduleKind
from reporting.reports import ReportParams


def runs_on(subscription: ReportSubscription, day: date) -> bool:
    if subscription.schedule == ScheduleKind.WEEKDAYS:
        return day.weekday() < 5
    if subscription.schedule == ScheduleKind.WEEKLY:
        return day.weekday() == subscription.weekday
    if subscription.schedule == ScheduleKind.MONTHLY:
        return day.day == subscription.day_of_month
    return True


def latest_slot(subscription: ReportSubscription, *, now: datetime | None = None) -> datetime:
    """The most recent scheduled time at or before `now` (what beat just fired)."""
    zone = zoneinfo.ZoneInfo(subscription.timezone)
    local_now = timezone.localtime(now or timezone.now(), zone)
    day = local_now.date()
    for _back in range(32):
        if runs_on(subscription, day):
            slot = datetime.combine(day, subscription.send_time, tzinfo=zone)
            if slot <= local_now:
                return slot
        day -= timedelta(days=1)
    raise ValueError("no slot in the last month")  # unreachable with valid schedules


def period_bounds(period: str, slot: datetime, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of the period relative to the slot, in the subscription's zone."""
    zone = zoneinfo.ZoneInfo(tz)
    local = timezone.localtime(slot, zone)
    day = local.date()

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time.min, tzinfo=zone)

    if period == ReportPeriod.YESTERDAY:
        return midnight(day - timedelta(days=1)), midnight(day)
    if period == ReportPeriod.LAST_7_DAYS:
        return midnight(day - timedelta(days=7)), midnight(day)
    if period == ReportPeriod.MONTH_TO_DATE:
        return midnight(day.replace(day=1)), local
    if period == ReportPeriod.LAST_MONTH:
        first = day.replace(day=1)
        return midnight((first - timedelta(days=1)).replace(day=1)), midnight(first)
    raise ValueError(f"unknown period {period!r}")


def params_for(subscription: ReportSubscription, *, start: datetime,
               end: datetime) -> ReportParams:
    return ReportParams.from_filters(subscription.filters, start=start, end=end,
                                     timezone=subscription.timezone)

