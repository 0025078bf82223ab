"""The shipping charge of an order, from the rate table (`ShippingRate`, in
the admin): by currency, destination country and the goods' weight; free
from an amount of net goods (after discounts). No matching row: no charge.

The charge is a taxed line of the order's totals and is copied onto the
invoice. Its tax rate is `charge_tax_rate`: the one place that decides it.
(The carrier services' list prices belong to fulfilment, which orders may
not read; the table is what the customer is charged.)

Placement reads the rows for its currency and destination as a column of its
customer read (`bands_column`); other callers let `shipping_charge` read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from oms.lib.money import ZERO
from orders.taxes import shipping_rate
from orders.totals import PricedLine


@dataclass(frozen=True)
class Charge:
    label: str
    net: Decimal
    tax_rate: Decimal

    def priced(self) -> PricedLine:
        return PricedLine(unit_price=self.net, tax_rate=self.tax_rate, quantity=1)


NO_CHARGE = Charge(label="", net=ZERO, tax_rate=ZERO)


def charge_tax_rate(goods: list[PricedLine]) -> Decimal:
    """The tax rate of a charge on these goods: that of the goods' largest
    share of value (a charge follows the principal supply, see
    `orders.taxes.shipping_rate`)."""
    return shipping_rate((line.tax_rate, line.net) for line in goods)


@dataclass(frozen=True)
class Band:
    """One row of the rate table for an order's currency and destination."""

    country: str  # "": every country without rows of its own
    max_weight_kg: Decimal | None
    price: Decimal
    free_above: Decimal | None
    label: str


# The rows for a currency and a country, and for every other country, as
# [[country, "max kg", "price", "free above", label], ...] (NULL: none);
# amounts as text, so none passes through a JSON float.
_BANDS_SQL = """(
SELECT jsonb_agg(jsonb_build_array(r.country, r.max_weight_kg::text, r.price::text,
                                   r.free_above::text, r.label))
  FROM orders_shippingrate r
 WHERE r.currency = %s AND (r.country = %s OR r.country = ''))"""


def bands_column(*, currency: str, country: str) -> RawSQL:
    """The bands `shipping_charge` chooses from, as a column of another query
    (placement reads them with its customer); `bands_from_column` reads it."""
    return RawSQL(_BANDS_SQL, [currency, country.upper()],  # noqa: S611 (constant SQL)
                  output_field=JSONField())


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def bands_from_column(rows: list | None) -> list[Band]:
    return [Band(country=country, max_weight_kg=_decimal(max_kg), price=Decimal(price),
                 free_above=_decimal(free_above), label=label)
            for country, max_kg, price, free_above, label in rows or ()]


def _bands(*, currency: str, country: str) -> list[Band]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + _BANDS_SQL, [currency, country])
        (rows,) = cursor.fetchone()
    return bands_from_column(json.loads(rows) if rows else None)


def shipping_charge(*, currency: str, country: str, weight_kg: Decimal,
                    goods: list[PricedLine], bands: list[Band] | None = None) -> Charge:
    """The charge for goods of `weight_kg` to `country`: the lightest band
    that takes the weight, from the rows for that country, else the
    rows for every other country. `bands`: those rows read already
    (`bands_column`); None: read here."""
    if bands is None:
        bands = _bands(currency=currency, country=country.upper())
    rows = [row for row in bands
            if row.max_weight_kg is None or row.max_weight_kg >= weight_kg]
    specific = [row for row in rows if row.country] or rows
    if not specific:
        return NO_CHARGE
    rate = min(specific, key=lambda row: (row.max_weight_kg is None,
                                          row.max_weight_kg or ZERO))
    goods_net = sum((line.net for line in goods), ZERO)
    label = rate.label or _("Shipping")
    if rate.free_above is not None and goods_net >= rate.free_above:
        return Charge(label=label, net=ZERO, tax_rate=charge_tax_rate(goods))
    return Charge(label=label, net=rate.price, tax_rate=charge_tax_rate(goods))
