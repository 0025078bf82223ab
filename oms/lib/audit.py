"""The audit trail: who changed which field of which record, from what to what.

Services write it, in their own transaction, with one call:

    audit.record_changes(customer, actor=actor, kind=AuditEntry.Kind.CHANGED,
                         changes={"credit_limit": (before, after)})

Unchanged pairs are skipped; the rest become one `oms.AuditEntry` row per
field in one INSERT, so a rolled-back service leaves none. Model-save
signals are not used: they miss queryset `.update()` and do not know the
actor. Values are stored as plain JSON (`plain`) and formatted for the
reader when shown (`render_value`): choices by their label, amounts and
dates in the reader's locale, booleans as yes/no.

`oms` imports no app, so each app registers the record types it audits
(`register(AuditedType(...))` in `AppConfig.ready()`): the label of the
record (an order's number) and the page that shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms.lib.actors import Actor, actor_id
from oms.lib.paging import HasNextPage, has_next_page_by_keys
from oms.models import AuditEntry

Kind = AuditEntry.Kind


@dataclass(frozen=True, slots=True)
class AuditedType:
    # "app_label.model_name"
    object_type: str
    # The record's words in a list (its number or name), read when it changes.
    label: Callable[[Any], str]
    # The URL name of the record's page (one int argument: its pk); None: the
    # record has no page of its own. Shown as a link to readers it lets in.
    url_name: str | None = None


_TYPES: dict[str, AuditedType] = {}


def register(audited: AuditedType) -> None:
    _TYPES[audited.object_type] = audited


def audited_types() -> dict[str, AuditedType]:
    return dict(_TYPES)


def object_type_of(obj: models.Model) -> str:
    return obj._meta.label_lower


def type_label(object_type: str) -> str | Promise:
    """The record type's name in the reader's language ("order")."""
    try:
        return apps.get_model(object_type)._meta.verbose_name
    except (LookupError, ValueError):
        return object_type


def plain(value: Any) -> Any:
    """A value as JSON the audit page can format again."""
    if isinstance(value, models.Model):
        return {"id": value.pk, "label": str(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(item) for item in value]
    if isinstance(value, Promise):
        return str(value)
    return value


def record_changes(obj: models.Model, *, actor: Actor, kind: str,
                   changes: Mapping[str, tuple[Any, Any]], on: models.Model | None = None,
                   object_label: str | None = None) -> list[AuditEntry]:
    """Write one entry per changed field of `obj` in the caller's transaction
    (one INSERT; a service that files several records' changes builds them
    with `build_entries` and writes them together with `save_entries`).

    `changes` maps a field name of `obj` to `(before, after)`; for `CHANGED`,
    pairs that compare equal are no change and write nothing. `on`: the
    record the entries are filed under when `obj` is a part of it (an order
    line under its order): they are found and linked as that record's.
    `object_label` overrides the registered label (e.g. "1001 · SKU-1" for a
    line)."""
    written = build_entries(obj, actor=actor, kind=kind, changes=changes, on=on,
                      object_label=object_label)
    save_entries(written)
    return written


def save_entries(rows: list[AuditEntry]) -> None:
    """Write entries built by `build_entries`, in one INSERT (none for none)."""
    if rows:
        AuditEntry.objects.bulk_create(rows)


def build_entries(obj: models.Model, *, actor: Actor, kind: str,
            changes: Mapping[str, tuple[Any, Any]], on: models.Model | None = None,
            object_label: str | None = None) -> list[AuditEntry]:
    """The entries `record_changes` would write, unsaved."""
    filed = on if on is not None else obj
    object_type = object_type_of(filed)
    part = "" if filed is obj else object_type_of(obj)
    label = object_label
    if label is None:
        audited = _TYPES.get(object_type)
        label = audited.label(filed) if audited else str(filed)
    now = timezone.now()
    rows = []
    for field, (before, after) in changes.items():
        before, after = plain(before), plain(after)
        if before == after and kind == Kind.CHANGED:
            continue
        rows.append(AuditEntry(at=now, actor_id=actor_id(actor), kind=kind,
                               object_type=object_type, object_id=filed.pk,
                               object_label=label[:200],
                               field=".".join(name for name in (part, field) if name),
                               before=before, after=after))
    return rows


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]
                    ) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs, as `record_changes` takes them."""
    return {name: (before.get(name), value) for name, value in after.items()
            if plain(before.get(name)) != plain(value)}


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The current values of `fields` (a related record as itself, stored
    with its id and words)."""
    return {name: getattr(obj, name) for name in fields}


def field_label(object_type: str, field: str) -> str | Promise:
    """The field's name in the reader's language."""
    if field.count(".") == 1:  # a part as a whole (a price removed from its list)
        return type_label(field)
    model_field = _model_field(object_type, field)
    if model_field is not None:
        return getattr(model_field, "verbose_name", field)
    return field.rsplit(".", 1)[-1].replace("_", " ")


def _model_field(object_type: str, field: str) -> models.Field | None:
    """`field` of `object_type`, or "app_label.model.field" of a part filed
    under it."""
    if field.count(".") == 2:
        object_type, field = field.rsplit(".", 1)
    try:
        return apps.get_model(object_type)._meta.get_field(field)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None


def render_value(object_type: str, field: str, value: Any) -> str:
    """A stored value in the reader's language and locale; "—" for none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    model_field = _model_field(object_type, field)
    if model_field is not None and model_field.choices:
        for key, label in model_field.flatchoices:
            if str(key) == str(value):
                return str(label)
    if isinstance(value, bool) or isinstance(model_field, models.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(model_field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if isinstance(model_field, models.DateField) and isinstance(value, str):
        day = parse_date(value)
        if day is not None:
            return formats.date_format(day, "SHORT_DATE_FORMAT")
    if isinstance(model_field, models.DecimalField | models.IntegerField) and isinstance(
            value, str | int):
        places = getattr(model_field, "decimal_places", None)
        try:
            return formats.number_format(Decimal(str(value)), decimal_pos=places,
                                         use_l10n=True, force_grouping=True)
        except InvalidOperation:
            return str(value)
    if isinstance(value, dict):
        return ", ".join(f"{render_value(object_type, key, item)}"
                         for key, item in value.items() if item not in (None, ""))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


# --- Reading: the audit page -------------------------------------------------

PAGE_SIZE = 50
MAX_SEARCH = 100


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class AuditFilterForm(forms.Form):
    """The audit page's filters, from the query string; a bad value is a
    field error on the page, never a server error."""

    actor = _PersonChoice(label=gettext_lazy("Person"), required=False, queryset=None,
                          empty_label=gettext_lazy("Anyone"),
                          error_messages={"invalid_choice": gettext_lazy(
                              "No such person; choose one from the list.")})
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    object_type = forms.ChoiceField(label=gettext_lazy("Object type"), required=False)
    object_id = forms.IntegerField(label=gettext_lazy("Object id"), required=False, min_value=1,
                                   max_value=2**63 - 1)
    q = forms.CharField(label=gettext_lazy("Number or name"), required=False, max_length=MAX_SEARCH,
                        strip=True)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=gettext_lazy("Until"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        User = get_user_model()
        actor = cast(forms.ModelChoiceField, self.fields["actor"])
        actor.queryset = User.objects.filter(is_active=True).order_by(
            "first_name", "last_name", User.USERNAME_FIELD)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            ("", gettext_lazy("All")), *Kind.choices]
        cast(forms.ChoiceField, self.fields["object_type"]).choices = [
            ("", gettext_lazy("All")),
            *sorted(((name, str(type_label(name))) for name in _TYPES), key=lambda c: c[1])]

    def clean_q(self) -> str:
        query = " ".join(self.cleaned_data["q"].split())
        if "\x00" in query:
            raise forms.ValidationError(_("The search text contains a character that "
                                          "cannot be searched."))
        return query

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


def entries(filters: Mapping[str, Any]) -> QuerySet[AuditEntry]:
    """The entries matching the form's cleaned filters, newest first (each
    filter has its index; the search uses the label's trigram index)."""
    rows = AuditEntry.objects.all()
    if filters.get("actor"):
        rows = rows.filter(actor=filters["actor"])
    if filters.get("kind"):
        rows = rows.filter(kind=filters["kind"])
    if filters.get("object_type"):
        rows = rows.filter(object_type=filters["object_type"])
    if filters.get("object_id"):
        rows = rows.filter(object_id=filters["object_id"])
    if filters.get("q"):
        rows = rows.filter(object_label__icontains=filters["q"])
    zone = timezone.get_current_timezone()
    if filters.get("date_from"):
        rows = rows.filter(at__gte=datetime.combine(filters["date_from"], time.min, zone))
    if filters.get("date_to"):
        rows = rows.filter(at__lt=datetime.combine(filters["date_to"] + timedelta(days=1),
                                                   time.min, zone))
    return rows.order_by("-at", "-id")


@dataclass(frozen=True, slots=True)
class Row:
    entry: AuditEntry
    type_label: str
    field_label: str
    before: str
    after: str
    url: str


def page_of_rows(filters: Mapping[str, Any], *, page: int, may_open: Callable[[str], bool]
                 ) -> tuple[HasNextPage, list[Row]]:
    """One page of entries as the reader sees them: one query (the page's
    keys in a subquery, those rows with their actors), whatever the page
    holds. `may_open(url)`: whether the reader may follow a record's link."""
    found = has_next_page_by_keys(entries(filters),
                                  rows=AuditEntry.objects.select_related("actor"),
                                  page=page, page_size=PAGE_SIZE)
    rows = []
    for entry in found.object_list:
        audited = _TYPES.get(entry.object_type)
        url = ""
        if audited is not None and audited.url_name:
            url = reverse(audited.url_name, args=[entry.object_id])
            if not may_open(url):
                url = ""
        rows.append(Row(entry=entry, type_label=str(type_label(entry.object_type)),
                        field_label=str(field_label(entry.object_type, entry.field)),
                        before=render_value(entry.object_type, entry.field, entry.before),
                        after=render_value(entry.object_type, entry.field, entry.after),
                        url=url))
    return found, rows
