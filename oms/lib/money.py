"""Money is Decimal, rounded once, explicitly, with ROUND_HALF_UP.

Every amount in the product passes through `quantize_money` at exactly the
points where a rounded figure is stored or shown: line totals and tax per
rate. Never a float near an amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Max digits and decimal places for every money column.
MONEY_DIGITS = 14
MONEY_PLACES = 2


def to_decimal(value: object) -> Decimal:
    """Parse a value into Decimal; refuses floats to keep binary noise out."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc


def quantize_money(amount: Decimal) -> Decimal:
    return to_decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def tax_amount(net: Decimal, rate_percent: Decimal) -> Decimal:
    """Tax on a net amount at a percentage rate, rounded once."""
    return quantize_money(to_decimal(net) * to_decimal(rate_percent) / Decimal(100))


def default_currency() -> str:
    return settings.DEFAULT_CURRENCY


def is_supported_currency(code: str) -> bool:
    return code in settings.CURRENCIES
