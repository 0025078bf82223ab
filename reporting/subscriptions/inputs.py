"""The typed input of the subscription services, validated once, when it is
built (the back-office form builds it; so do scripts and tests)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time

from django.conf import settings
from django.utils.translation import gettext as _

from inventory.models import Warehouse
from oms.lib.errors import ApplicationError
from orders.models import Channel
from reporting import reports
from reporting.models import ReportPeriod, ScheduleKind
from reporting.reports import builders
from reporting.subscriptions.recipients import eligible_recipients, invalid_addresses

FILTERS = ("warehouse", "channel", "customer_group", "stuck_days")


def addresses_error(addresses: list[str]) -> str | None:
    """The error of a list of plain addresses, None when every one is valid
    (the form shows it next to its other field errors)."""
    bad = invalid_addresses(addresses)
    return (_("Not valid e-mail addresses: %(list)s") % {"list": ", ".join(bad)}
            if bad else None)


@dataclass(frozen=True)
class SubscriptionData:
    """What a subscription is; building one refuses it with every field error
    at once (names of the form's fields)."""

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

    def __post_init__(self) -> None:
        errors = self.errors()
        if errors:
            raise ApplicationError(_("The subscription was not saved: please correct the "
                                     "fields marked."), field_errors=errors)

    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}

        def refuse(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        if not self.name.strip():
            refuse("name", _("Give the subscription a name."))
        if self.report not in reports.REGISTRY:
            refuse("report", _("Choose one of the available reports."))
        if self.period not in ReportPeriod.values:
            refuse("period", _("Choose a period."))
        if self.format not in builders.MIMETYPES:
            refuse("format", _("Choose CSV, XLSX or PDF."))
        if self.language not in dict(settings.LANGUAGES):
            refuse("language", _("Choose one of the languages of the product."))
        if self.timezone not in zoneinfo.available_timezones():
            refuse("timezone", _("Unknown time zone."))
        if self.schedule not in ScheduleKind.values:
            refuse("schedule", _("Choose a schedule."))
        if self.schedule == ScheduleKind.WEEKLY and self.weekday not in range(7):
            refuse("weekday", _("A weekly report needs its day of the week."))
        if self.schedule == ScheduleKind.MONTHLY and self.day_of_month not in range(1, 29):
            refuse("day_of_month", _("A monthly report needs a day between 1 and 28 "
                                     "(every month has it)."))
        self._check_filters(refuse)
        if error := addresses_error(self.extra_emails):
            refuse("extra_emails", error)
        users = set(self.recipient_ids)
        allowed = set(eligible_recipients().filter(pk__in=users).values_list("pk", flat=True))
        if users - allowed:
            refuse("recipients", _("Reports go only to active Managers and Admins with an "
                                   "e-mail address; add anyone else as an address."))
        if not users and not self.extra_emails:
            refuse("recipients", _("Add at least one recipient (a user or an address)."))
        return errors

    def _check_filters(self, refuse: Callable[[str, str], None]) -> None:
        for key in set(self.filters) - set(FILTERS):
            refuse("filters", _("Unknown filter %(name)s.") % {"name": key})
        warehouse = self.filters.get("warehouse")
        if warehouse and not Warehouse.objects.filter(pk=warehouse, is_active=True).exists():
            refuse("warehouse", _("Choose an active warehouse."))
        channel = self.filters.get("channel")
        if channel and channel not in Channel.values:
            refuse("channel", _("Choose one of the sales channels."))
        group = self.filters.get("customer_group")
        if group and group not in reports.GROUPS:
            refuse("customer_group", _("Choose one of the customer groups."))
        stuck = self.filters.get("stuck_days")
        if stuck is not None and not (isinstance(stuck, int) and 1 <= stuck <= 365):
            refuse("stuck_days", _("Between 1 and 365 days."))
        report = reports.REGISTRY.get(self.report)
        if report is not None:
            for name in ("warehouse", "channel", "customer_group"):
                if self.filters.get(name) and name not in report.filters:
                    refuse(name, _("The report %(report)s cannot be filtered this way.")
                           % {"report": report.label})
