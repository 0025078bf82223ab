"""Scheduled report subscriptions: writes and runs.

What a run does (reporting.tasks.run_subscription is a thin wrapper):
1. claim: INSERT the run row for (subscription, slot) ON CONFLICT DO NOTHING,
   then a conditional UPDATE pending|failed -> running. Only the caller that
   moved the row builds; a second beat tick, a redelivered task or a second
   worker for the same slot finds it running or sent and does nothing.
2. build the file streaming from SQL (reporting.reports.builders), outside
   any long transaction;
3. in one transaction: mark the run sent (or skipped when empty and "send
   only if there is data") and enqueue the outbox row "reporting.send_report"
   whose dedup_key is the run: the e-mail goes out once per run whatever
   happens after.
A failure marks the run failed with the error; the task retries with
backoff and the retry claims the same row again (failed -> running).
"Send now" and "retry" write their request as an outbox row in their own
transaction; the outbox queues the task after commit (and again, should the
broker have refused it).
"""

from __future__ import annotations

import json
import traceback
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_fsm import can_proceed

from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.progress import Progress
from reporting import reports
from reporting.models import ReportRun, ReportSubscription, RunStatus, ScheduleKind
from reporting.reports import builders
from reporting.subscriptions.delivery import (
    DELETE_FILES_HANDLER,
    QUEUE_RUN_HANDLER,
    SEND_REPORT_HANDLER,
    TASK_NAME,
)
from reporting.subscriptions.inputs import SubscriptionData
from reporting.subscriptions.recipients import recipients_of
from reporting.subscriptions.schedule import params_for, period_bounds

# A run left `running` this long was lost with its worker: it may be claimed again.
STALE_RUNNING = timedelta(minutes=30)


_DAY_OF_WEEK: dict[str, str] = {ScheduleKind.DAILY: "*", ScheduleKind.WEEKDAYS: "1-5",
                                ScheduleKind.MONTHLY: "*"}


def _crontab_for(subscription: ReportSubscription) -> CrontabSchedule:
    day_of_week = _DAY_OF_WEEK.get(subscription.schedule)
    if subscription.schedule == ScheduleKind.WEEKLY:
        assert subscription.weekday is not None  # SubscriptionData requires it when weekly
        day_of_week = str((subscription.weekday + 1) % 7)  # cron: 0 = Sunday
    day_of_month = (str(subscription.day_of_month)
                    if subscription.schedule == ScheduleKind.MONTHLY else "*")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute=str(subscription.send_time.minute), hour=str(subscription.send_time.hour),
        day_of_week=day_of_week, day_of_month=day_of_month, month_of_year="*",
        timezone=subscription.timezone)
    return crontab


def _sync_beat(subscription: ReportSubscription) -> None:
    """Create or update the subscription's PeriodicTask (beat reads it)."""
    task = subscription.periodic_task or PeriodicTask(
        name=f"report-subscription-{subscription.pk}")
    task.task = TASK_NAME
    task.kwargs = json.dumps({"subscription_id": subscription.pk})
    task.crontab = _crontab_for(subscription)
    task.interval = None
    task.enabled = subscription.is_active
    task.description = subscription.name[:200]
    task.save()
    if subscription.periodic_task_id != task.pk:
        ReportSubscription.objects.filter(pk=subscription.pk).update(periodic_task=task)
        subscription.periodic_task = task


def _apply(subscription: ReportSubscription, data: SubscriptionData) -> None:
    """Write `data` to the subscription, its recipients and its beat task."""
    for name in ("name", "report", "period", "format", "schedule", "send_time", "timezone",
                 "language", "send_only_if_data", "is_active"):
        setattr(subscription, name, getattr(data, name))
    subscription.name = data.name.strip()
    subscription.weekday = data.weekday if data.schedule == ScheduleKind.WEEKLY else None
    subscription.day_of_month = (data.day_of_month if data.schedule == ScheduleKind.MONTHLY
                                 else None)
    subscription.filters = {key: value for key, value in data.filters.items()
                            if value not in (None, "")}
    subscription.extra_emails = sorted({address.lower() for address in data.extra_emails})
    subscription.save()
    subscription.recipients.set(data.recipient_ids)
    _sync_beat(subscription)


def create_subscription(*, data: SubscriptionData, actor: Actor) -> ReportSubscription:
    with transaction.atomic(durable=True):
        subscription = ReportSubscription(owner=actor)
        _apply(subscription, data)
    return subscription


def update_subscription(*, subscription_id: int, data: SubscriptionData,
                        actor: Actor) -> ReportSubscription:
    with transaction.atomic(durable=True):
        subscription = ReportSubscription.objects.select_for_update().get(pk=subscription_id)
        _apply(subscription, data)
    return subscription


def delete_subscription(*, subscription_id: int, actor: Actor) -> None:
    """Delete the subscription, its beat task and its runs (their files too)."""
    with transaction.atomic(durable=True):
        subscription = ReportSubscription.objects.select_for_update().get(pk=subscription_id)
        if actor is not None and not subscription.is_deletable_by(actor):
            raise NotAllowed(_("Only the owner of this subscription can delete it."),
                             code="not_owner")
        paths = list(subscription.runs.exclude(file_path="")
                     .values_list("file_path", flat=True))
        task_id = subscription.periodic_task_id
        subscription.delete()
        if task_id:
            PeriodicTask.objects.filter(pk=task_id).delete()
        if paths:
            outbox.enqueue(DELETE_FILES_HANDLER, {"paths": paths})


def _queue_run(run: ReportRun, *, dedup_key: str | None = None) -> None:
    outbox.enqueue(QUEUE_RUN_HANDLER, {"subscription_id": run.subscription_id,
                                       "slot": run.scheduled_for.isoformat()},
                   dedup_key=dedup_key)


def request_run(*, subscription_id: int, actor: Actor) -> ReportRun:
    """"Send now": a run row for this very second; the outbox queues its build after commit."""
    with transaction.atomic(durable=True):
        subscription = ReportSubscription.objects.get(pk=subscription_id)
        slot = timezone.now().replace(microsecond=0)
        start, end = period_bounds(subscription.period, slot, subscription.timezone)
        run, _created = ReportRun.objects.get_or_create(
            subscription=subscription, scheduled_for=slot,
            defaults={"period_start": start, "period_end": end, "manual": True,
                      "requested_by": actor})
        _queue_run(run, dedup_key=f"reporting.run.{run.pk}.requested")
    return run


def retry_run(*, run_id: int, actor: Actor) -> ReportRun:
    """A failed run goes again (same slot, same period); never one that was sent."""
    with transaction.atomic(durable=True):
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        if not can_proceed(run.retry):
            raise NotAllowed(_("Only a failed run can be retried."))
        run.retry(actor=actor)
        run.save(update_fields=["status", "attempts", "requested_by"])
        # No dedup key: a second retry of the same failure is refused above.
        _queue_run(run)
    return run


def claim_run(*, subscription: ReportSubscription, slot: datetime) -> ReportRun | None:
    """Insert-or-find the slot's run and move it to running; None if not ours."""
    start, end = period_bounds(subscription.period, slot, subscription.timezone)
    # INSERT ... ON CONFLICT DO NOTHING: a second tick for the slot inserts nothing.
    ReportRun.objects.bulk_create(
        [ReportRun(subscription=subscription, scheduled_for=slot, period_start=start,
                   period_end=end)], ignore_conflicts=True)
    now = timezone.now()
    # The claim is one conditional UPDATE (not a transition on a locked row):
    # of two workers for one slot, exactly one moves it.
    claimable = (Q(status__in=[RunStatus.PENDING, RunStatus.FAILED])
                 | Q(status=RunStatus.RUNNING, started_at__lt=now - STALE_RUNNING))
    claimed = (ReportRun.objects.filter(subscription=subscription, scheduled_for=slot)
               .filter(claimable)
               .update(status=RunStatus.RUNNING, attempts=F("attempts") + 1,
                       started_at=now, finished_at=None, error=""))
    if not claimed:
        return None
    return ReportRun.objects.get(subscription=subscription, scheduled_for=slot)


def run_progress_key(run_id: int) -> str:
    """Where a running report's rows-written count is kept (oms.lib.progress)."""
    return f"report-run-{run_id}"


def execute_run(*, subscription_id: int, slot: datetime) -> ReportRun | None:
    """Claim, build, send (via the outbox) and record one run. Returns the run
    this call executed, None when the slot was already taken. Raises after
    recording a failure, so the task can retry."""
    subscription = ReportSubscription.objects.get(pk=subscription_id)
    run = claim_run(subscription=subscription, slot=slot)
    if run is None:
        return None
    built = None
    try:
        report = reports.get(subscription.report)
        params = params_for(subscription, start=run.period_start, end=run.period_end)
        recipients = recipients_of(subscription)
        if not recipients:
            raise ApplicationError(_("The subscription has no recipient left."))
        with translation.override(subscription.language):
            headline = [{"label": str(item.label), "value": item.value}
                        for item in report.headline(params)]
            stamp = timezone.localtime(slot, zoneinfo.ZoneInfo(subscription.timezone))
            built = builders.build_file(
                report=report, params=params, fmt=subscription.format,
                basename=f"{report.key}-{stamp:%Y%m%d-%H%M}-{run.pk}",
                context={"subscription": subscription, "run": run, "report": report,
                         "headline": headline, "period_last_day": run.period_last_day},
                progress=Progress.start(user_id=None, label="", key=run_progress_key(run.pk)))
        # Not durable: run by hand or eagerly (a shell, the tests), the task
        # runs inside the outbox runner's transaction.
        with transaction.atomic():
            run = ReportRun.objects.select_for_update().get(pk=run.pk)
            run.rows, run.size, run.headline = built.rows, built.size, headline
            run.recipients = recipients
            if built.rows == 0 and subscription.send_only_if_data:
                run.skip()
                outbox.enqueue(DELETE_FILES_HANDLER, {"paths": [built.path]})
            else:
                run.send(file_path=built.path,
                         delivered_as=("link" if built.size > settings.REPORT_ATTACHMENT_MAX_BYTES
                                       else "attachment"))
                outbox.enqueue(SEND_REPORT_HANDLER, {"run_id": run.pk},
                               dedup_key=f"reporting.run.{run.pk}")
            run.save()
    except Exception as error:
        if built is not None:
            default_storage.delete(built.path)
        message = (error.message if isinstance(error, ApplicationError)
                   else "".join(traceback.format_exception_only(error)).strip())
        _record_failure(run.pk, message)
        raise
    return run


def _record_failure(run_id: int, message: str) -> None:
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        if can_proceed(run.fail):  # a run that finished meanwhile keeps its outcome
            run.fail(error=message)
            run.save(update_fields=["status", "error", "finished_at"])


def purge_old_files(*, now: datetime | None = None) -> int:
    """Delete the files of runs older than REPORT_FILE_RETENTION_DAYS (the
    run rows stay as history). Their download links expired long before."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.REPORT_FILE_RETENTION_DAYS)
    runs = list(ReportRun.objects.filter(finished_at__lt=cutoff).exclude(file_path="")
                .values_list("pk", "file_path")[:1000])
    for pk, path in runs:
        default_storage.delete(path)
        ReportRun.objects.filter(pk=pk).update(file_path="")
    return len(runs)

