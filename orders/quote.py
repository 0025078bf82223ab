"""What an order costs: its goods less their discounts, the shipping charge
and the totals. `order_figures` is the one computation: placement sets the
placed order's figures with it, and `quote` (the CSV import's preview, the
entry page's live totals) runs the same discounts and the same figures
without writing anything."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from inventory import api as inventory_api
from oms.lib.actors import Actor
from orders import discounts as order_discounts
from orders import shipping
from orders.totals import PricedLine, Totals, compute_totals

# Each line's product (at its price and the order's tax rate) and quantity.
Priced = list[tuple[inventory_api.ProductInfo, int]]


@dataclass(frozen=True)
class Figures:
    goods: list[PricedLine]  # per line: its net after its own and its share of the order's
    charge: shipping.Charge
    totals: Totals


def order_figures(priced: Priced, found: order_discounts.Discounts, *, currency: str,
                  country: str, bands: list[shipping.Band] | None = None) -> Figures:
    """The goods less `found`'s discounts, the shipping charge to `country`
    for their weight, and the totals with the charge as a taxed line.
    `bands`: the shipping rate rows read already (placement's customer read)."""
    goods = [PricedLine(unit_price=product.unit_price, tax_rate=product.tax_rate,
                        quantity=quantity, discount=off.discount + off.order_discount,
                        currency=currency)
             for (product, quantity), off in zip(priced, found.lines, strict=True)]
    charge = shipping.shipping_charge(
        currency=currency, country=country,
        weight_kg=sum((product.weight_kg * quantity for product, quantity in priced),
                      Decimal(0)), goods=goods, bands=bands)
    return Figures(goods=goods, charge=charge,
                   totals=compute_totals(goods + [charge.priced()] if charge.label else goods))


def list_nets(priced: Priced, *, currency: str) -> list[Decimal]:
    """Each line's value before any discount: what the discounts come off."""
    return [PricedLine(unit_price=product.unit_price, tax_rate=product.tax_rate,
                       quantity=quantity, currency=currency).list_net
            for product, quantity in priced]


@dataclass(frozen=True)
class Quote:
    figures: Figures
    discounts: order_discounts.Discounts

    @property
    def totals(self) -> Totals:
        return self.figures.totals

    @property
    def charge(self) -> shipping.Charge:
        return self.figures.charge

    @property
    def errors(self) -> dict[str, list[str]]:
        return self.discounts.errors


def quote(*, priced: Priced,
          line_discounts: list[str | order_discounts.Discount | None],
          discount: str | order_discounts.Discount | None, code: str,
          customer_id: int | None, currency: str, country: str, actor: Actor) -> Quote:
    """The order's figures and its discount field errors (`lines.0.discount`,
    `discount`, `discount_code`). Reads only; the code's lock is released
    at once."""
    with transaction.atomic():
        found = order_discounts.resolve(
            list_nets=list_nets(priced, currency=currency),
            line_discounts=[order_discounts.parse_discount(d) for d in line_discounts],
            order_discount=order_discounts.parse_discount(discount), code=code,
            customer_id=customer_id or 0, currency=currency, actor=actor)
    return Quote(figures=order_figures(priced, found, currency=currency, country=country),
                 discounts=found)
