"""Scheduled report subscriptions: writes, runs and the e-mail handler.

What a run does (reporting.tasks.run_subscription is a thin wrapper):
1. claim: INSERT the run row for (subscription, slot) ON CONFLICT DO NOTHING,
   then a conditional UPDATE pending|failed -> running. Only the caller that
   moved the row builds; a second beat tick, a redelivered task or a second
   worker for the same slot finds it running or sent and does nothing.
2. build the file streaming from SQL (reporting.reports.builders), outside
   any long transaction;
3. in one durable transaction: mark the run sent (or skipped when empty and
   "send only if there is data") and enqueue the outbox row
   "reporting.send_report" whose dedup_key is the run: the e-mail goes out
   once per run whatever happens after.
A failure marks the run failed with the error; the task retries with
backoff and the retry claims the same row again (failed -> running).

Recipients are users who are Managers or Admins (or superusers) plus plain
addresses. Removing a user from the Manager/Admin role removes them from
every subscription (m2m_changed on User.groups, see `drop_ineligible_recipients`),
and a run re-checks eligibility anyway, so a user demoted by a path that
sends no signal (a raw SQL change) still gets nothing.
"""

from __future__ import annotations

import json
import logging
import traceback
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Model, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.roles import ADMIN, MANAGER
from reporting import reports
from reporting.models import (
    ReportPeriod,
    ReportRun,
    ReportSubscription,
    RunStatus,
    ScheduleKind,
)
from reporting.reports import ReportParams, builders

logger = logging.getLogger(__name__)

TASK_NAME = "reporting.tasks.run_subscription"
LINK_SALT = "reporting.run-download"
RECIPIENT_ROLES = (MANAGER, ADMIN)
# A run left `running` this long was lost with its worker: it may be claimed again.
STALE_RUNNING = timedelta(minutes=30)


# --- recipients ---------------------------------------------------------------


def eligible_recipients() -> QuerySet:
    """Users who may receive reports: active Managers and Admins with an e-mail."""
    return (get_user_model().objects.filter(is_active=True).exclude(email="")
            .filter(Q(groups__name__in=RECIPIENT_ROLES) | Q(is_superuser=True)).distinct())


def drop_ineligible_recipients(*, user_ids: list[int] | None = None) -> int:
    """Remove users who are no longer Managers/Admins from every subscription.

    Called by the m2m_changed receiver on User.groups (a role taken away) and
    usable by hand; `user_ids=None` checks every recipient."""
    through = ReportSubscription.recipients.through
    links = through.objects.all()
    if user_ids is not None:
        links = links.filter(user_id__in=user_ids)
    removed, _detail = (links.exclude(user_id__in=eligible_recipients().values("pk"))
                        .delete())
    return removed


def on_groups_changed(sender: type, instance: Model, action: str, reverse: bool,
                      pk_set: set[int] | None, **kwargs: Any) -> None:
    """m2m_changed receiver for User.groups (connected in ReportingConfig.ready)."""
    if action not in ("post_remove", "post_clear"):
        return
    if not reverse:  # user.groups.remove(...) / clear(): instance is the user
        drop_ineligible_recipients(user_ids=[instance.pk])
    else:  # group.user_set.remove(...): pk_set holds the users (None on clear)
        drop_ineligible_recipients(user_ids=list(pk_set) if pk_set else None)


def parse_addresses(text: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or new lines."""
    for separator in ",;\n\r\t":
        text = text.replace(separator, " ")
    return [part.strip() for part in text.split(" ") if part.strip()]


# --- validation and writes ----------------------------------------------------


@dataclass
class SubscriptionData:
    name: str
    report: str
    period: str
    format: str
    schedule: str
    send_time: time
    timezone: str
    language: str
    weekday: int | None = None
    day_of_month: int | None = None
    filters: dict = field(default_factory=dict)
    recipient_ids: list[int] = field(default_factory=list)
    extra_emails: list[str] = field(default_factory=list)
    send_only_if_data: bool = False
    is_active: bool = True


def _validate(data: SubscriptionData) -> None:
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not data.name.strip():
        refuse("name", _("Give the subscription a name."))
    if data.report not in reports.REGISTRY:
        refuse("report", _("Choose one of the available reports."))
    if data.period not in ReportPeriod.values:
        refuse("period", _("Choose a period."))
    if data.format not in builders.MIMETYPES:
        refuse("format", _("Choose CSV, XLSX or PDF."))
    if data.language not in dict(settings.LANGUAGES):
        refuse("language", _("Choose one of the languages of the product."))
    if data.timezone not in zoneinfo.available_timezones():
        refuse("timezone", _("Unknown time zone."))
    if data.schedule not in ScheduleKind.values:
        refuse("schedule", _("Choose a schedule."))
    if data.schedule == ScheduleKind.WEEKLY and data.weekday not in range(7):
        refuse("weekday", _("A weekly report needs its day of the week."))
    if data.schedule == ScheduleKind.MONTHLY and data.day_of_month not in range(1, 29):
        refuse("day_of_month", _("A monthly report needs a day between 1 and 28 "
                                 "(every month has it)."))
    _validate_filters(data, refuse)
    bad = []
    for address in data.extra_emails:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        refuse("extra_emails", _("Not valid e-mail addresses: %(list)s")
               % {"list": ", ".join(bad)})
    users = set(data.recipient_ids)
    allowed = set(eligible_recipients().filter(pk__in=users).values_list("pk", flat=True))
    if users - allowed:
        refuse("recipients", _("Reports go only to active Managers and Admins with an "
                               "e-mail address; add anyone else as an address."))
    if not users and not data.extra_emails:
        refuse("recipients", _("Add at least one recipient (a user or an address)."))
    if errors:
        raise ApplicationError(_("The subscription was not saved: please correct the "
                                 "fields marked."), field_errors=errors)


def _validate_filters(data: SubscriptionData, refuse: Callable[[str, str], None]) -> None:
    from inventory.models import Warehouse
    from orders.models import Channel

    known = {"warehouse", "channel", "customer_group", "stuck_days"}
    for key in set(data.filters) - known:
        refuse("filters", _("Unknown filter %(name)s.") % {"name": key})
    report = reports.REGISTRY.get(data.report)
    warehouse = data.filters.get("warehouse")
    if warehouse and not Warehouse.objects.filter(pk=warehouse, is_active=True).exists():
        refuse("warehouse", _("Choose an active warehouse."))
    channel = data.filters.get("channel")
    if channel and channel not in Channel.values:
        refuse("channel", _("Choose one of the sales channels."))
    group = data.filters.get("customer_group")
    if group and group not in reports.GROUPS:
        refuse("customer_group", _("Choose one of the customer groups."))
    stuck = data.filters.get("stuck_days")
    if stuck is not None and not (isinstance(stuck, int) and 1 <= stuck <= 365):
        refuse("stuck_days", _("Between 1 and 365 days."))
    if report is not None:
        for name in ("warehouse", "channel", "customer_group"):
            if data.filters.get(name) and name not in report.filters:
                refuse(name, _("The report %(report)s cannot be filtered this way.")
                       % {"report": report.label})


def _crontab_for(subscription: ReportSubscription) -> CrontabSchedule:
    days: dict[str, str] = {ScheduleKind.DAILY: "*", ScheduleKind.WEEKDAYS: "1-5",
                            ScheduleKind.MONTHLY: "*"}
    day_of_week = days.get(subscription.schedule)
    if subscription.schedule == ScheduleKind.WEEKLY:
        assert subscription.weekday is not None  # validated with the schedule
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


def create_subscription(*, data: SubscriptionData, actor: Actor) -> ReportSubscription:
    _validate(data)
    with transaction.atomic(durable=True):
        subscription = ReportSubscription(owner=actor)
        _apply(subscription, data)
        subscription.save()
        subscription.recipients.set(data.recipient_ids)
        _sync_beat(subscription)
    return subscription


def update_subscription(*, subscription_id: int, data: SubscriptionData,
                        actor: Actor) -> ReportSubscription:
    _validate(data)
    with transaction.atomic(durable=True):
        subscription = ReportSubscription.objects.select_for_update().get(pk=subscription_id)
        _apply(subscription, data)
        subscription.save()
        subscription.recipients.set(data.recipient_ids)
        _sync_beat(subscription)
    return subscription


def delete_subscription(*, subscription_id: int, actor: Actor) -> None:
    """Delete the subscription, its beat task and its runs (their files too)."""
    with transaction.atomic(durable=True):
        subscription = ReportSubscription.objects.select_for_update().get(pk=subscription_id)
        paths = list(subscription.runs.exclude(file_path="")
                     .values_list("file_path", flat=True))
        task_id = subscription.periodic_task_id
        subscription.delete()
        if task_id:
            PeriodicTask.objects.filter(pk=task_id).delete()
        transaction.on_commit(partial(_delete_files, paths))


def _delete_files(paths: list[str]) -> None:
    for path in paths:
        default_storage.delete(path)


# --- slots and periods --------------------------------------------------------


def _runs_on(subscription: ReportSubscription, day: date) -> bool:
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
        if _runs_on(subscription, day):
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


# --- runs ---------------------------------------------------------------------


def request_run(*, subscription_id: int, actor: Actor) -> ReportRun:
    """"Send now": a run row for this very second, built by a task after commit."""
    with transaction.atomic(durable=True):
        subscription = ReportSubscription.objects.get(pk=subscription_id)
        slot = timezone.now().replace(microsecond=0)
        start, end = period_bounds(subscription.period, slot, subscription.timezone)
        run, _created = ReportRun.objects.get_or_create(
            subscription=subscription, scheduled_for=slot,
            defaults={"period_start": start, "period_end": end, "manual": True,
                      "requested_by": actor})
        transaction.on_commit(partial(_enqueue_task, subscription.pk, slot))
    return run


def retry_run(*, run_id: int, actor: Actor) -> ReportRun:
    """A failed run goes again (same slot, same period); never one that was sent."""
    with transaction.atomic(durable=True):
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.FAILED:
            raise NotAllowed(_("Only a failed run can be retried."))
        run.status = RunStatus.PENDING
        run.attempts = 0
        run.requested_by = actor
        run.save(update_fields=["status", "attempts", "requested_by"])
        transaction.on_commit(partial(_enqueue_task, run.subscription_id, run.scheduled_for))
    return run


def _enqueue_task(subscription_id: int, slot: datetime) -> None:
    from reporting.tasks import run_subscription

    try:
        run_subscription.apply_async(kwargs={"subscription_id": subscription_id,
                                             "scheduled_for_iso": slot.isoformat()})
    except Exception:  # broker down: the row stays pending, "retry" or beat picks it up
        logger.warning("reporting: could not queue the run of %s", subscription_id,
                       exc_info=True)


def claim_run(*, subscription: ReportSubscription, slot: datetime) -> ReportRun | None:
    """Insert-or-find the slot's run and move it to running; None if not ours."""
    start, end = period_bounds(subscription.period, slot, subscription.timezone)
    # INSERT ... ON CONFLICT DO NOTHING: a second tick for the slot inserts nothing.
    ReportRun.objects.bulk_create(
        [ReportRun(subscription=subscription, scheduled_for=slot, period_start=start,
                   period_end=end)], ignore_conflicts=True)
    now = timezone.now()
    claimable = (Q(status__in=[RunStatus.PENDING, RunStatus.FAILED])
                 | Q(status=RunStatus.RUNNING, started_at__lt=now - STALE_RUNNING))
    claimed = (ReportRun.objects.filter(subscription=subscription, scheduled_for=slot)
               .filter(claimable)
               .update(status=RunStatus.RUNNING, attempts=F("attempts") + 1,
                       started_at=now, finished_at=None, error=""))
    if not claimed:
        return None
    return ReportRun.objects.get(subscription=subscription, scheduled_for=slot)


def _recipients_of(subscription: ReportSubscription) -> list[str]:
    users = eligible_recipients().filter(report_subscriptions=subscription)
    addresses = list(users.values_list("email", flat=True)) + list(subscription.extra_emails)
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault(address.lower(), address)
    return sorted(seen.values())


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
        recipients = _recipients_of(subscription)
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
                         "headline": headline, "period_last_day": run.period_last_day})
        with transaction.atomic(durable=True):
            run = ReportRun.objects.select_for_update().get(pk=run.pk)
            run.rows, run.size, run.headline = built.rows, built.size, headline
            run.recipients = recipients
            run.finished_at = timezone.now()
            if built.rows == 0 and subscription.send_only_if_data:
                run.status = RunStatus.SKIPPED
                transaction.on_commit(partial(_delete_files, [built.path]))
            else:
                run.status = RunStatus.SENT
                run.file_path = built.path
                run.delivered_as = ("link" if built.size > settings.REPORT_ATTACHMENT_MAX_BYTES
                                    else "attachment")
                outbox.enqueue("reporting.send_report", {"run_id": run.pk},
                               dedup_key=f"reporting.run.{run.pk}")
            run.save()
    except Exception as error:
        if built is not None:
            _delete_files([built.path])
        message = (error.message if isinstance(error, ApplicationError)
                   else "".join(traceback.format_exception_only(error)).strip())
        ReportRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=message[:4000], finished_at=timezone.now())
        raise
    return run


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


# --- delivery -----------------------------------------------------------------


def download_token(run: ReportRun) -> str:
    return signing.dumps({"run": run.pk}, salt=LINK_SALT)


def run_for_token(token: str) -> ReportRun:
    """Raises signing.SignatureExpired / BadSignature / ReportRun.DoesNotExist."""
    data = signing.loads(token, salt=LINK_SALT,
                         max_age=timedelta(days=settings.REPORT_LINK_MAX_AGE_DAYS))
    return ReportRun.objects.select_related("subscription").get(
        pk=data["run"], status=RunStatus.SENT)


def _message_id(outbox_message_id: int) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].partition("@")[2] or "oms.localhost"
    return f"<outbox-{outbox_message_id}@{domain}>"


@outbox.handler("reporting.send_report")
def send_report(payload: dict) -> None:
    """The report e-mail: headline figures in the body, the file attached, or
    a signed link valid REPORT_LINK_MAX_AGE_DAYS when the file is larger than
    REPORT_ATTACHMENT_MAX_BYTES. One message for all recipients (Bcc), so a
    recipient list is not disclosed to plain addresses."""
    run = ReportRun.objects.select_related("subscription").filter(pk=payload["run_id"]).first()
    if run is None or not run.file_path:  # subscription deleted since: nothing to send
        return
    subscription = run.subscription
    report = reports.get(subscription.report)
    link = None
    if run.delivered_as == "link":
        link = settings.SITE_URL.rstrip("/") + reverse(
            "reporting:report_run_download", args=[download_token(run)])
    with translation.override(subscription.language):
        context = {"subscription": subscription, "run": run, "report": report,
                   "headline": run.headline, "link": link,
                   "period_last_day": run.period_last_day,
                   "link_days": settings.REPORT_LINK_MAX_AGE_DAYS}
        subject = _("%(name)s: %(report)s, %(start)s to %(end)s") % {
            "name": subscription.name, "report": report.label,
            "start": run.period_first_day, "end": run.period_last_day}
        text = render_to_string("emails/reporting/report.txt", context)
        html = render_to_string("emails/reporting/report.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[settings.DEFAULT_FROM_EMAIL], bcc=run.recipients,
        headers={"Message-ID": _message_id(payload["outbox_message_id"])})
    message.attach_alternative(html, "text/html")
    if link is None:
        with default_storage.open(run.file_path, "rb") as handle:
            message.attach(run.file_path.rsplit("/", 1)[-1], handle.read(),
                           builders.MIMETYPES[subscription.format])
    message.send()
