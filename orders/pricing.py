"""Unit prices at placement: the one lookup every caller uses.

For each line the price comes from the most specific price list valid on
the date, in the order's currency, that prices the product at the line's
quantity: the customer's own list, else its group's, else the catalogue
default. Within a list the highest quantity break not above the line's
quantity applies.

The lists' offers for an order's products are one scalar subquery over the
customer's row (`offers_column`): placement reads them as a column of its
customer read; `price_lines` runs it on its own (one query for all lines).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from customers.models import Customer
from oms.lib.sqlarrays import int_array
from orders.price_lists import PriceScope


@dataclass(frozen=True)
class LineToPrice:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class LinePrice:
    unit_price: Decimal
    price_list_id: int
    scope: PriceScope


# The offers of the lists valid on a date for some products, as
# [[product, min quantity, "unit price", list, scope], ...] (NULL: none) of
# the lists of everyone, of the customer `{customer}` and of its group
# `{group}` (columns of the outer row, or parameters). Two lists of one scope
# (which should not overlap) are offered in the lists' own order. Prices as
# text: no amount passes through a JSON float.
_OFFERS_SQL = f"""(
SELECT jsonb_agg(jsonb_build_array(
           e.product_id, e.min_quantity, e.unit_price::text, e.price_list_id,
           CASE WHEN l.customer_id IS NOT NULL THEN {PriceScope.CUSTOMER:d}
                WHEN l.customer_group_id IS NOT NULL THEN {PriceScope.GROUP:d}
                ELSE {PriceScope.DEFAULT:d} END)
           ORDER BY l.valid_from, l.id)
  FROM orders_pricelistentry e
  JOIN orders_pricelist l ON l.id = e.price_list_id
 WHERE e.product_id = ANY(%s::bigint[]) AND e.min_quantity <= %s AND l.currency = %s
   AND (l.valid_from IS NULL OR l.valid_from <= %s)
   AND (l.valid_until IS NULL OR l.valid_until >= %s)
   AND ((l.customer_id IS NULL AND l.customer_group_id IS NULL)
        OR l.customer_id = {{customer}} OR l.customer_group_id = {{group}}))"""  # noqa: S608


def _offer_params(*, currency: str, on_date: date, lines: list[LineToPrice]) -> list:
    return [int_array({line.product_id for line in lines}),
            max((line.quantity for line in lines), default=0), currency, on_date, on_date]


def offers_column(*, currency: str, on_date: date, lines: list[LineToPrice]) -> RawSQL:
    """The offers for `lines` as a column of a query on customers (for each
    row's customer and its group); `prices_from_offers` reads it."""
    return RawSQL(_OFFERS_SQL.format(customer="customers_customer.id",  # noqa: S611 (constant)
                                     group="customers_customer.group_id"),
                  _offer_params(currency=currency, on_date=on_date, lines=lines),
                  output_field=JSONField())


def prices_from_offers(offers: list | None, lines: list[LineToPrice]
                       ) -> list[LinePrice | None]:
    """The price of each line, in order, from the offers of `offers_column`
    read for these lines; None where the product has no price."""
    # product -> [(scope, min_quantity, price, list)], best first
    by_product: dict[int, list[tuple[int, int, str, int]]] = {}
    for product_id, min_quantity, unit_price, list_id, scope in offers or ():
        by_product.setdefault(product_id, []).append((scope, min_quantity, unit_price, list_id))
    for candidates in by_product.values():
        candidates.sort(key=lambda offer: (offer[0], offer[1]), reverse=True)
    result: list[LinePrice | None] = []
    for line in lines:
        best = next((offer for offer in by_product.get(line.product_id, ())
                     if offer[1] <= line.quantity), None)
        result.append(None if best is None else
                      LinePrice(unit_price=Decimal(best[2]), price_list_id=best[3],
                                scope=PriceScope(best[0])))
    return result


def price_lines(*, customer: Customer | None, currency: str, on_date: date,
                lines: list[LineToPrice]) -> list[LinePrice | None]:
    """The price of each line, in order; None where the product has no
    price in `currency` for this customer on `on_date`."""
    if not lines:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + _OFFERS_SQL.format(customer="%s", group="%s"),
                       [*_offer_params(currency=currency, on_date=on_date, lines=lines),
                        customer.pk if customer else None,
                        customer.group_id if customer else None])
        (offers,) = cursor.fetchone()
    return prices_from_offers(json.loads(offers) if offers else None, lines)


def no_price_error(*, sku: str, currency: str) -> str:
    return _("%(sku)s has no price in %(currency)s.") % {"sku": sku, "currency": currency}
