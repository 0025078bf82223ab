"""What an order would cost, without writing it: goods less discounts, the
shipping charge and the totals, as placement computes them. For previews
(the CSV import, the entry page's live totals)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from inventory import api as inventory_api
from oms.lib.actors import Actor
from orders import discounts as order_discounts
from orders import shipping
from orders.totals import PricedLine, Totals, compute_totals


@dataclass(frozen=True)
class Quote:
    totals: Totals
    discounts: order_discounts.Discounts
    charge: shipping.Charge

    @property
    def errors(self) -> dict[str, list[str]]:
        return self.discounts.errors


def quote(*, priced: list[tuple[inventory_api.ProductInfo, int]],
          line_discounts: list[str | None], discount: str | None, code: str,
          customer_id: int | None, currency: str, country: str, actor: Actor) -> Quote:
    """The order's figures and its discount field errors (`lines.0.discount`,
    `discount`, `discount_code`). Reads only; the code's lock is released
    at once."""
    with transaction.atomic():
        found = order_discounts.resolve(
            list_nets=[PricedLine(unit_price=p.unit_price, tax_rate=p.tax_rate, quantity=q,
                                  currency=currency).list_net for p, q in priced],
            line_discounts=[order_discounts.parse_discount(d) for d in line_discounts],
            order_discount=order_discounts.parse_discount(discount), code=code,
            customer_id=customer_id or 0, currency=currency, actor=actor)
    goods = [PricedLine(unit_price=p.unit_price, tax_rate=p.tax_rate, quantity=q,
                        discount=off.discount + off.order_discount, currency=currency)
             for (p, q), off in zip(priced, found.lines, strict=True)]
    charge = shipping.shipping_charge(
        currency=currency, country=country,
        weight_kg=sum((p.weight_kg * q for p, q in priced), Decimal(0)), goods=goods)
    return Quote(totals=compute_totals(goods + [charge.priced()] if charge.label else goods),
                 discounts=found, charge=charge)
