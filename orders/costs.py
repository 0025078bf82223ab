"""The cost snapshot of order lines, for the margin.

At placement each line copies the unit cost of its product in the order's
currency. A product bought in another currency has its cost converted with
the exchange rate of the day (`oms.currencies`), preferring the base
currency's cost, then any other in alphabetical order that has a rate. No
cost, or no rate for any of them: `unit_cost` stays null and the margin of
that line is unknown rather than the whole price.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from inventory import api as inventory_api
from oms.currencies import MissingRate, Rates
from orders.models import Order, OrderLine


def _unit_cost(costs: dict[str, Decimal], currency: str, rates: Rates) -> Decimal | None:
    if currency in costs:
        return costs[currency]
    base = str(settings.DEFAULT_CURRENCY)
    for source in sorted(costs, key=lambda code: (code != base, code)):
        try:
            return rates.convert(costs[source], source, currency)
        except MissingRate:
            continue
    return None


def snapshot_costs(order: Order, lines: Sequence[OrderLine],
                   products: Sequence[inventory_api.ProductInfo]) -> None:
    """Set `unit_cost` on the (unsaved) lines of `order` from the costs of
    their `products` (the catalogue read of the placement: no query unless a
    cost needs an exchange rate)."""
    costs = {product.id: product.costs for product in products}
    rates = Rates(timezone.localdate())
    for line in lines:
        line.unit_cost = _unit_cost(costs.get(line.product_id, {}), order.currency, rates)
