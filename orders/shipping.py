"""The shipping charge of an order, from the rate table (`ShippingRate`, in
the admin): by currency, destination country and the goods' weight; free
from an amount of net goods (after discounts). No matching row: no charge.

The charge is a taxed line of the order's totals and is copied onto the
invoice. Its tax rate is `charge_tax_rate`: the one place that decides it.
(The carrier services' list prices belong to fulfilment, which orders may
not read; the table is what the customer is charged.)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from oms.lib import reference_cache
from oms.lib.money import ZERO
from orders.models import ShippingRate
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


SHIPPING_RATES_TABLE = "shipping_rates"


def _rates(*, currency: str, country: str) -> list[ShippingRate]:
    """The rows for `country` and for every other country, in `currency`,
    kept in the process for a while (`oms.lib.reference_cache`)."""
    return reference_cache.cached(SHIPPING_RATES_TABLE, (currency, country), lambda: list(
        ShippingRate.objects.filter(Q(country=country) | Q(country=""), currency=currency)))


def shipping_charge(*, currency: str, country: str, weight_kg: Decimal,
                    goods: list[PricedLine]) -> Charge:
    """The charge for goods of `weight_kg` to `country`: the lightest band
    that takes the weight, from the rows for that country, else the
    rows for every other country."""
    rows = [row for row in _rates(currency=currency, country=country.upper())
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
