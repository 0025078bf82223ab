"""The subscription form: shapes the values into the typed input, which
holds the rules (recipients must be Managers/Admins, filters must fit the
report); its field errors are put back on the form's fields."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from inventory.models import Warehouse
from oms.lib.errors import ApplicationError
from orders.models import Channel
from reporting import reports
from reporting.models import ReportFormat, ReportPeriod, ReportSubscription, ScheduleKind
from reporting.subscriptions import SubscriptionData, eligible_recipients, parse_addresses
from reporting.subscriptions.inputs import addresses_error

WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
            (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday"))]


@cache
def _zones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())
            if "/" in name and not name.startswith(("Etc/", "SystemV/"))]


class SubscriptionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    report = forms.ChoiceField(label=_("Report"), choices=())
    period = forms.ChoiceField(label=_("Period covered"), choices=ReportPeriod.choices,
                               help_text=_("Relative to the day of the run."))
    format = forms.ChoiceField(label=_("Format"), choices=ReportFormat.choices)
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), required=False,
                                       queryset=Warehouse.objects.none(),
                                       empty_label=_("All warehouses"))
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("All channels"))] + list(Channel.choices))
    customer_group = forms.ChoiceField(
        label=_("Customer group"), required=False,
        choices=[("", _("All customers"))] + reports.GROUP_CHOICES,
        help_text=_("Customers by kind or by standing."))
    stuck_days = forms.IntegerField(
        label=_("Stuck after (days)"), required=False, min_value=1, max_value=365,
        help_text=_("Order-to-cash cycle only: orders unchanged this long are stuck."))
    recipients = forms.ModelMultipleChoiceField(
        label=_("Recipients (users)"), required=False, queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Managers and Admins. A user who leaves those roles is removed."))
    extra_emails = forms.CharField(
        label=_("Other addresses"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Separated by commas or new lines."))
    schedule = forms.ChoiceField(label=_("Schedule"), choices=ScheduleKind.choices)
    send_time = forms.TimeField(label=_("At"), widget=forms.TimeInput(attrs={"type": "time"}))
    weekday = forms.TypedChoiceField(label=_("Day of the week (weekly)"), required=False,
                                     coerce=int, empty_value=None,
                                     choices=[("", "—"), *WEEKDAYS])
    day_of_month = forms.IntegerField(label=_("Day of the month (monthly)"), required=False,
                                      min_value=1, max_value=28)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=())
    language = forms.ChoiceField(label=_("Language of the e-mail"), choices=())
    send_only_if_data = forms.BooleanField(label=_("Send only if there is data"),
                                           required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = cast(dict[str, Any], self.fields)  # the declared fields' own types
        fields["report"].choices = reports.choices()
        fields["warehouse"].queryset = Warehouse.objects.filter(is_active=True)
        fields["recipients"].queryset = eligible_recipients().order_by("username")
        fields["recipients"].label_from_instance = (
            lambda user: f"{user.get_full_name() or user.username} <{user.email}>")
        fields["timezone"].choices = _zones()
        fields["language"].choices = settings.LANGUAGES
        if not self.is_bound and "timezone" not in self.initial:
            self.initial.setdefault("timezone", settings.TIME_ZONE)

    def clean_extra_emails(self) -> str:
        # The input's own address rule, run here as well so that bad addresses
        # are shown together with the errors of other fields.
        text = self.cleaned_data.get("extra_emails") or ""
        if error := addresses_error(parse_addresses(text)):
            raise ValidationError(error)
        return text

    def clean(self) -> dict:
        data = super().clean()
        assert data is not None  # forms.Form.clean returns cleaned_data
        if not self.errors:
            try:
                self._input = self._build(data)
            except ApplicationError as error:
                self.add_service_errors(error)
        return data

    @classmethod
    def initial_for(cls, subscription: ReportSubscription) -> dict:
        filters = subscription.filters
        return {
            "name": subscription.name, "report": subscription.report,
            "period": subscription.period, "format": subscription.format,
            "warehouse": filters.get("warehouse"), "channel": filters.get("channel", ""),
            "customer_group": filters.get("customer_group", ""),
            "stuck_days": filters.get("stuck_days"),
            "recipients": list(subscription.recipients.values_list("pk", flat=True)),
            "extra_emails": "\n".join(subscription.extra_emails),
            "schedule": subscription.schedule, "send_time": subscription.send_time,
            "weekday": subscription.weekday, "day_of_month": subscription.day_of_month,
            "timezone": subscription.timezone, "language": subscription.language,
            "send_only_if_data": subscription.send_only_if_data,
            "is_active": subscription.is_active,
        }

    def to_data(self) -> SubscriptionData:
        """The validated input (only once the form is valid)."""
        return self._input

    @staticmethod
    def _build(data: dict) -> SubscriptionData:
        warehouse = data.get("warehouse")
        return SubscriptionData(
            name=data["name"], report=data["report"], period=data["period"],
            format=data["format"], schedule=data["schedule"], send_time=data["send_time"],
            timezone=data["timezone"], language=data["language"],
            weekday=data.get("weekday"), day_of_month=data.get("day_of_month"),
            filters={"warehouse": warehouse.pk if warehouse else None,
                     "channel": data.get("channel") or None,
                     "customer_group": data.get("customer_group") or None,
                     "stuck_days": data.get("stuck_days")},
            recipient_ids=[user.pk for user in data.get("recipients") or []],
            extra_emails=parse_addresses(data.get("extra_emails") or ""),
            send_only_if_data=data.get("send_only_if_data", False),
            is_active=data.get("is_active", False))

    def add_service_errors(self, error: ApplicationError) -> None:
        for name, messages in error.field_errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        if not error.field_errors:
            self.add_error(None, error.message)
