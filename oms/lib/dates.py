"""Moments told to a reader: in the active language and time zone."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


def format_deadline(moment: datetime | None, format_name: str = "DATETIME_FORMAT") -> str:
    """"12 December 2026, 15:41 CET": the date and time in the active
    language's format (`format_name`, e.g. SHORT_DATETIME_FORMAT) and time
    zone, with the zone's abbreviation, so a promised deadline means the
    same to everyone who reads it."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{date_format(local, format_name)} {local.tzname() or ''}".strip()
