"""Reads of the scheduled-report pages: the list with each subscription's
last run, one subscription with its run history, and a preview."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone

from reporting import reports
from reporting.models import ReportRun, ReportSubscription
from reporting.reports import builders
from reporting.subscriptions.schedule import params_for, period_bounds

RUN_HISTORY = 50
PREVIEW_ROWS = 20


def subscription_list() -> list[dict]:
    """Every subscription with its report, last run and number of recipients."""
    rows = (ReportSubscription.objects.select_related("owner")
            .prefetch_related("recipients").order_by("name", "id"))
    last_runs = {run.subscription_id: run for run in (
        ReportRun.objects.filter(subscription__in=rows)
        .order_by("subscription_id", "-scheduled_for").distinct("subscription_id"))}
    return [{"subscription": s, "last_run": last_runs.get(s.pk),
             "report": reports.REGISTRY.get(s.report),
             "recipient_count": len(s.recipients.all()) + len(s.extra_emails)} for s in rows]


def subscription_detail(*, subscription_id: int) -> dict:
    """The subscription, its report and its latest runs; 404 when unknown."""
    subscription = get_object_or_404(
        ReportSubscription.objects.select_related("owner", "periodic_task__crontab")
        .prefetch_related("recipients"), pk=subscription_id)
    return {"subscription": subscription, "report": reports.REGISTRY.get(subscription.report),
            "runs": list(subscription.runs.select_related("requested_by")[:RUN_HISTORY])}


def subscription_preview(*, subscription_id: int) -> dict:
    """The headline figures and the first rows, for the period the next run
    would cover if it ran now; nothing is stored or sent. 404 when unknown."""
    subscription = get_object_or_404(ReportSubscription, pk=subscription_id)
    report = reports.get(subscription.report)
    start, end = period_bounds(subscription.period, timezone.now(), subscription.timezone)
    params = params_for(subscription, start=start, end=end)
    zone = zoneinfo.ZoneInfo(subscription.timezone)
    return {
        "subscription": subscription, "report": report,
        "headline": report.headline(params),
        "columns": [str(column.title) for column in report.columns],
        "rows": builders.preview_rows(report=report, params=params, limit=PREVIEW_ROWS),
        "total": reports.count_rows(report, params),
        "period_first_day": timezone.localtime(start, zone).date(),
        "period_last_day": timezone.localtime(end - timedelta(microseconds=1), zone).date(),
    }
