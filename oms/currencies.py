"""Currencies and their exchange: the one place an amount changes currency.

`convert` reads the `ExchangeRate` valid on a date (the newest one from
that date or before), for the pair as stored or its inverse, and rounds
the result once with `quantize_money`. No rate: `MissingRate`, never a
guessed figure. Callers that convert many amounts take one `Rates` for
the date so each pair is read once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from oms.lib.errors import ApplicationError
from oms.lib.money import quantize_money, to_decimal
from oms.models import ExchangeRate, validate_currency

__all__ = ["MissingRate", "Rates", "convert", "validate_currency"]


class MissingRate(ApplicationError):
    """No exchange rate between two currencies on a date."""

    status = 409

    def __init__(self, base: str, quote: str, on_date: date):
        self.base, self.quote, self.on_date = base, quote, on_date
        super().__init__(
            _("No exchange rate from %(base)s to %(quote)s on %(date)s. Add one in the "
              "admin (Exchange rates).") % {"base": base, "quote": quote,
                                            "date": on_date.isoformat()},
            code="missing_exchange_rate")


class Rates:
    """Exchange rates valid on one date, each pair read at most once."""

    def __init__(self, on_date: date):
        self.on_date = on_date
        self._found: dict[tuple[str, str], Decimal | None] = {}

    def rate(self, base: str, quote: str) -> Decimal:
        if base == quote:
            return Decimal(1)
        if (base, quote) not in self._found:
            self._found[(base, quote)] = self._read(base, quote)
        rate = self._found[(base, quote)]
        if rate is None:
            raise MissingRate(base, quote, self.on_date)
        return rate

    def _read(self, base: str, quote: str) -> Decimal | None:
        # The pair as stored or its inverse; the newest valid one wins and,
        # on the same date, the pair as stored.
        row = (ExchangeRate.objects
               .filter(Q(base=base, quote=quote) | Q(base=quote, quote=base),
                       valid_from__lte=self.on_date)
               .order_by("-valid_from", "-id").values_list("base", "rate").first())
        if row is None:
            return None
        stored_base, rate = row
        return rate if stored_base == base else Decimal(1) / rate

    def convert(self, amount: Decimal, base: str, quote: str) -> Decimal:
        return quantize_money(to_decimal(amount) * self.rate(base, quote))


def convert(amount: Decimal, from_currency: str, to_currency: str, on_date: date) -> Decimal:
    """`amount` in `from_currency` as `to_currency` on `on_date`, to the cent."""
    return Rates(on_date).convert(amount, from_currency, to_currency)


def base_currency() -> str:
    return str(settings.DEFAULT_CURRENCY)
