"""Template helpers shared by every app: money in the user's locale."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from django import template
from django.conf import settings
from django.utils.translation import get_language, to_locale

register = template.Library()


def _locale() -> str:
    return to_locale(get_language() or settings.LANGUAGE_CODE)


@register.filter
def money(amount: Decimal | None, currency: str | None = None) -> str:
    """`{{ order.total_gross|money:order.currency }}` -> "€1,234.50" / "1 234,50 €"."""
    if amount is None or amount == "":
        return ""
    return format_currency(Decimal(amount), currency or settings.DEFAULT_CURRENCY,
                           locale=_locale())

