"""Unit prices at placement: the one lookup every caller uses.

For each line the price comes from the most specific price list valid on
the date, in the order's currency, that prices the product at the line's
quantity: the customer's own list, else its group's, else the catalogue
default. Within a list the highest quantity break not above the line's
quantity applies. One query for all lines of an order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from customers.models import Customer
from orders.price_lists import PriceListEntry, PriceScope


@dataclass(frozen=True)
class LineToPrice:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class LinePrice:
    unit_price: Decimal
    price_list_id: int
    scope: PriceScope


def valid_on(on_date: date, prefix: str = "") -> Q:
    """Lists valid on `on_date` (open ends count as always)."""
    return ((Q(**{f"{prefix}valid_from__isnull": True})
             | Q(**{f"{prefix}valid_from__lte": on_date}))
            & (Q(**{f"{prefix}valid_until__isnull": True})
               | Q(**{f"{prefix}valid_until__gte": on_date})))


def price_lines(*, customer: Customer | None, currency: str, on_date: date,
                lines: list[LineToPrice]) -> list[LinePrice | None]:
    """The price of each line, in order; None where the product has no
    price in `currency` for this customer on `on_date`."""
    if not lines:
        return []
    scope = Q(price_list__customer__isnull=True, price_list__customer_group__isnull=True)
    if customer is not None:
        scope |= Q(price_list__customer_id=customer.pk)
        if customer.group_id:
            scope |= Q(price_list__customer_group_id=customer.group_id)
    rows = (PriceListEntry.objects
            .filter(scope, valid_on(on_date, "price_list__"),
                    product_id__in={line.product_id for line in lines},
                    min_quantity__lte=max(line.quantity for line in lines),
                    price_list__currency=currency)
            .values_list("product_id", "min_quantity", "unit_price", "price_list_id",
                         "price_list__customer_id", "price_list__customer_group_id"))
    # product -> [(scope, min_quantity, price, list)], best first
    offers: dict[int, list[tuple[PriceScope, int, Decimal, int]]] = {}
    for product_id, min_quantity, unit_price, list_id, customer_id, group_id in rows:
        rank = (PriceScope.CUSTOMER if customer_id else
                PriceScope.GROUP if group_id else PriceScope.DEFAULT)
        offers.setdefault(product_id, []).append((rank, min_quantity, unit_price, list_id))
    for candidates in offers.values():
        candidates.sort(key=lambda offer: (offer[0], offer[1]), reverse=True)
    result: list[LinePrice | None] = []
    for line in lines:
        best = next((offer for offer in offers.get(line.product_id, ())
                     if offer[1] <= line.quantity), None)
        result.append(None if best is None else
                      LinePrice(unit_price=best[2], price_list_id=best[3], scope=best[0]))
    return result


def no_price_error(*, sku: str, currency: str) -> str:
    return _("%(sku)s has no price in %(currency)s.") % {"sku": sku, "currency": currency}
