"""The one rounding rule for order totals, shared by placement and by the
order-entry screen's live totals.

line net = quantize(unit_price * quantity) - discount (the line's discounts,
already rounded: see orders.discounts); a charge (shipping) is a line of
quantity 1 at the goods' rate (see orders.shipping); tax is computed once per tax rate
on the sum of the nets at that rate; gross = net + tax. Rounding per rate
(not per line) keeps the tax on an invoice equal to rate x taxable base.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from oms.lib.money import ZERO, quantize_money, tax_amount


@dataclass(frozen=True)
class PricedLine:
    unit_price: Decimal
    tax_rate: Decimal
    quantity: int
    discount: Decimal = ZERO
    currency: str | None = None  # the order's; None: the default currency

    @property
    def list_net(self) -> Decimal:
        return quantize_money(self.unit_price * self.quantity, self.currency)

    @property
    def net(self) -> Decimal:
        return self.list_net - self.discount


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal
    gross: Decimal
    # rate -> (net at that rate, tax at that rate), for invoices and the UI
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = field(default_factory=dict)


def compute_totals(lines: list[PricedLine]) -> Totals:
    nets_by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    currency = lines[0].currency if lines else None
    for line in lines:
        nets_by_rate[line.tax_rate] += line.net
    by_rate = {rate: (net, tax_amount(net, rate, currency))
               for rate, net in sorted(nets_by_rate.items())}
    net = sum((n for n, _t in by_rate.values()), ZERO)
    tax = sum((t for _n, t in by_rate.values()), ZERO)
    return Totals(net=net, tax=tax, gross=net + tax, by_rate=by_rate)
