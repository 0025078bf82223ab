"""Template helpers shared by every app: money and deadlines in the user's locale."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import template

from oms.lib.dates import format_deadline
from oms.lib.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str | None = None) -> str:
    """`{{ order.total_gross|money:order.currency }}` -> "€1,234.50" / "1 234,50 €"."""
    return format_money(amount, currency)


@register.filter
def deadline(moment: datetime | None, format_name: str = "DATETIME_FORMAT") -> str:
    """`{{ order.hold_expires_at|deadline }}` -> "12 December 2026, 15:41 CET";
    `|deadline:"SHORT_DATETIME_FORMAT"` -> "12/12/2026 15:41 CET"."""
    return format_deadline(moment, format_name)
