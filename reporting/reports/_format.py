"""Headline values as text in the active language (the e-mail's)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format

from oms.lib.money import format_money


def money(amount: Decimal | None, currency: str) -> str:
    return format_money(amount or Decimal("0.00"), currency, code=True)


def count(value: int | None) -> str:
    return number_format(value or 0, 0, force_grouping=True)


def hours(value: float | None) -> str:
    return "–" if value is None else number_format(round(value, 1), 1)


def percent(part: Decimal | None, whole: Decimal | None) -> str:
    """`part` as a share of `whole` ("23.5 %"), empty when `whole` is nothing."""
    if not whole or part is None:
        return ""
    return f"{number_format(round(part * 100 / whole, 1), 1)} %"
