"""Money is Decimal, rounded once, explicitly, with ROUND_HALF_UP.

Every amount in the product passes through `quantize_money` at exactly the
points where a rounded figure is stored or shown: line totals and tax per
rate. The places come from the currency (ISO 4217 through Babel: EUR has
two, JPY none); the rounding is always ROUND_HALF_UP. Never a float near an
amount. `format_money` is the one way an amount becomes text: pages, PDFs,
e-mails and reports.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision, is_currency
from django.conf import settings
from django.utils.translation import get_language, to_locale

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


def is_known_currency(code: object) -> bool:
    """An ISO 4217 code Babel knows ("EUR", "JPY"); "ABC", "eur" are not."""
    return isinstance(code, str) and len(code) == 3 and code.isupper() and is_currency(code)


def currency_digits(currency: str | None = None) -> int:
    """Minor-unit digits of a currency (JPY 0, EUR 2), capped at the two
    places every money column stores; the default currency when None."""
    return min(get_currency_precision(currency or settings.DEFAULT_CURRENCY), MONEY_PLACES)


def quantize_money(amount: Decimal, currency: str | None = None) -> Decimal:
    """The one rounding rule: ROUND_HALF_UP to the currency's minor unit."""
    exponent = Decimal(1).scaleb(-currency_digits(currency))
    return to_decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


def tax_amount(net: Decimal, rate_percent: Decimal, currency: str | None = None) -> Decimal:
    """Tax on a net amount at a percentage rate, rounded once."""
    return quantize_money(to_decimal(net) * to_decimal(rate_percent) / Decimal(100), currency)


def format_money(amount: Decimal | str | None, currency: str | None = None, *,
                 code: bool = False) -> str:
    """An amount in the active language: "€1,234.50" / "1 234,50 €"; with
    `code`, two decimals and the ISO code as reports show it: "1,234.50 EUR"."""
    if amount is None or amount == "":
        return ""
    locale = to_locale(get_language() or settings.LANGUAGE_CODE)
    currency = currency or settings.DEFAULT_CURRENCY
    if code:
        return format_currency(to_decimal(amount), currency, format="#,##0.00 ¤¤",
                               locale=locale, currency_digits=False)
    return format_currency(Decimal(amount), currency, locale=locale)
