"""Reporting: the manager dashboard and exports.

reporting is the top layer: it may read every app (through their selectors
where they have one, or aggregate SQL over their models) and writes nothing
but its own records. It owns no business state; `ReportingAccess` exists only
to carry the permissions of the reports (no table). Its own records are the
scheduled report subscriptions and their runs (reporting/subscriptions/);
a run's status changes only through its transitions (a protected state
machine), except the claim, one conditional UPDATE.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition


class ReportingAccess(models.Model):
    """Holder of the reporting permissions; never stored."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("reporting access")
        verbose_name_plural = _("reporting access")
        permissions = [
            ("view_manager_dashboard", _("Can view the manager dashboard")),
            ("view_reports", _("Can view and export reports")),
        ]


class ReportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")
    PDF = "pdf", _("PDF")


class ReportPeriod(models.TextChoices):
    YESTERDAY = "yesterday", _("Yesterday")
    LAST_7_DAYS = "last_7_days", _("Last 7 days")
    MONTH_TO_DATE = "month_to_date", _("Month to date")
    LAST_MONTH = "last_month", _("Last month")


class ScheduleKind(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKDAYS = "weekdays", _("Weekdays (Monday to Friday)")
    WEEKLY = "weekly", _("Weekly, on a day")
    MONTHLY = "monthly", _("Monthly, on a day")


class ReportSubscription(models.Model):
    """A report e-mailed on a schedule to managers and plain addresses.

    The schedule lives twice on purpose: here in readable fields (what the
    form edits) and as a django-celery-beat PeriodicTask with its
    CrontabSchedule in the subscription's time zone (what beat runs).
    reporting.subscriptions keeps the two in step; nothing else writes them.
    """

    name = models.CharField(_("name"), max_length=120)
    report = models.CharField(_("report"), max_length=40)  # key of reporting.reports.REGISTRY
    # {"warehouse": id, "channel": "web", "customer_group": "company", "stuck_days": 3}
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    period = models.CharField(_("period"), max_length=20, choices=ReportPeriod.choices,
                              default=ReportPeriod.YESTERDAY)
    format = models.CharField(_("format"), max_length=4, choices=ReportFormat.choices,
                              default=ReportFormat.CSV)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                        related_name="report_subscriptions",
                                        verbose_name=_("recipients (users)"))
    extra_emails = models.JSONField(_("other addresses"), default=list, blank=True)
    schedule = models.CharField(_("schedule"), max_length=10, choices=ScheduleKind.choices,
                                default=ScheduleKind.DAILY)
    send_time = models.TimeField(_("time"), default=datetime.time(7, 0))
    weekday = models.PositiveSmallIntegerField(  # 0 = Monday, for weekly schedules
        _("day of the week"), null=True, blank=True)
    day_of_month = models.PositiveSmallIntegerField(  # 1..28, for monthly schedules
        _("day of the month"), null=True, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    send_only_if_data = models.BooleanField(_("send only if there is data"), default=False)
    language = models.CharField(_("language"), max_length=10, default="en")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("owner"))
    is_active = models.BooleanField(_("active"), default=True)
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", null=True,
                                         blank=True, on_delete=models.SET_NULL,
                                         related_name="+", verbose_name=_("beat task"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day_of_month__isnull=True)
                | models.Q(day_of_month__gte=1, day_of_month__lte=28),
                name="reporting_subscription_day_of_month_1_28"),
            models.CheckConstraint(
                condition=models.Q(weekday__isnull=True) | models.Q(weekday__lte=6),
                name="reporting_subscription_weekday_0_6"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_deletable_by(self, user) -> bool:
        """Those who may delete any subscription, or its owner who may manage
        subscriptions (a manager removes their own)."""
        return user.has_perm("reporting.delete_reportsubscription") or (
            self.owner_id == user.pk and user.has_perm("reporting.change_reportsubscription"))


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # claimed row, not started (or waiting for a retry)
    RUNNING = "running", _("Running")  # a worker builds the file
    SENT = "sent", _("Sent")  # file built, e-mail handed to the outbox
    SKIPPED = "skipped", _("Skipped")  # no data and "send only if there is data"
    FAILED = "failed", _("Failed")  # the last attempt failed; see error


class ReportRun(FSMModelMixin, models.Model):
    """One run of a subscription for one slot of its schedule.

    UNIQUE (subscription, scheduled_for) is the idempotency key: beat firing
    twice, a redelivered task or a second worker all find the same row, and
    only the one that moves it to `running` builds and sends.
    """

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE,
                                     related_name="runs", verbose_name=_("subscription"))
    scheduled_for = models.DateTimeField(_("slot"))
    manual = models.BooleanField(_("sent by hand"), default=False)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end (exclusive)"))
    status = FSMField(_("status"), max_length=10, choices=RunStatus.choices,
                      default=RunStatus.PENDING, protected=True)
    rows = models.PositiveBigIntegerField(_("rows"), null=True, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    headline = models.JSONField(_("headline figures"), default=list, blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    file_path = models.CharField(_("file"), max_length=255, blank=True)
    delivered_as = models.CharField(_("delivered as"), max_length=10, blank=True)  # attachment|link
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "scheduled_for"],
                                    name="reporting_run_one_per_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} @ {self.scheduled_for:%Y-%m-%d %H:%M}"

    # Claimed (pending|failed -> running) by reporting.subscriptions.services.claim_run,
    # a conditional UPDATE; the rest goes through these transitions.

    @transition(field=status, source=RunStatus.RUNNING, target=RunStatus.SENT)
    def send(self, *, file_path: str, delivered_as: str) -> None:
        """The file is built; its e-mail is handed to the outbox."""
        self.file_path = file_path
        self.delivered_as = delivered_as
        self.finished_at = dj_timezone.now()

    @transition(field=status, source=RunStatus.RUNNING, target=RunStatus.SKIPPED)
    def skip(self) -> None:
        self.finished_at = dj_timezone.now()

    @transition(field=status, source=RunStatus.RUNNING, target=RunStatus.FAILED)
    def fail(self, *, error: str) -> None:
        self.error = error[:4000]
        self.finished_at = dj_timezone.now()

    @transition(field=status, source=RunStatus.FAILED, target=RunStatus.PENDING)
    def retry(self, *, actor) -> None:
        """Asked for again by hand: a fresh set of attempts."""
        self.attempts = 0
        self.requested_by = actor

    @property
    def is_failed(self) -> bool:
        return self.status == RunStatus.FAILED

    @property
    def is_under_way(self) -> bool:
        """Waiting for a worker or being built: its page follows it."""
        return self.status in (RunStatus.PENDING, RunStatus.RUNNING)

    @property
    def period_first_day(self) -> datetime.date:
        zone = zoneinfo.ZoneInfo(self.subscription.timezone)
        return dj_timezone.localtime(self.period_start, zone).date()

    @property
    def period_last_day(self) -> datetime.date:
        """The last day covered (the end is exclusive)."""
        end = self.period_end - datetime.timedelta(microseconds=1)
        return dj_timezone.localtime(end, zoneinfo.ZoneInfo(self.subscription.timezone)).date()
