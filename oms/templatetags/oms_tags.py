"""Template helpers shared by every app: money in the user's locale."""

from __future__ import annotations

from decimal import Decimal

from django import template

from oms.lib.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str | None = None) -> str:
    """`{{ order.total_gross|money:order.currency }}` -> "€1,234.50" / "1 234,50 €"."""
    return format_money(amount, currency)
