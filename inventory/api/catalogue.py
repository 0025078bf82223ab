"""Read-only catalogue and stock figures for other apps."""

from __future__ import annotations

import json
from decimal import Decimal

from django.db import connection
from django.db.models import JSONField
from django.db.models.expressions import RawSQL

from inventory.api.types import ProductInfo, WarehouseAvailability
from inventory.models import StockLevel, VatRate


def availability(*, product_ids: list[int]) -> dict[int, list[WarehouseAvailability]]:
    """Stock per active warehouse for each product (empty list when none)."""
    result: dict[int, list[WarehouseAvailability]] = {pid: [] for pid in product_ids}
    rows = (
        StockLevel.objects.filter(product_id__in=product_ids, warehouse__is_active=True)
        .order_by("product_id", "warehouse__code")
        .values_list("product_id", "warehouse_id", "warehouse__code", "on_hand", "reserved")
    )
    for product_id, warehouse_id, code, on_hand, reserved in rows:
        result[product_id].append(WarehouseAvailability(
            warehouse_id=warehouse_id, code=code, on_hand=on_hand, reserved=reserved,
            available=on_hand - reserved))
    return result


# The catalogue data of some SKUs with the unit cost per currency as
# {"EUR": "4.00"} (text, so no amount passes through a JSON float). Plain
# SQL: every placement runs it, and the ORM would compile it every time.
_PRODUCTS_SQL = """
SELECT p.id, p.sku, p.name, p.unit_price, p.tax_rate, p.is_active, p.weight_kg, p.is_fragile,
       p.available_from, p.tax_category,
       (SELECT jsonb_object_agg(c.currency, c.cost::text)
          FROM inventory_productcost c WHERE c.product_id = p.id)
  FROM inventory_product p
 WHERE p.sku = ANY(%s::text[])"""


def products_by_sku(*, skus: list[str]) -> dict[str, ProductInfo]:
    """Catalogue data for the given SKUs (exact match) with their unit costs;
    unknown SKUs are absent. One query."""
    if not skus:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_PRODUCTS_SQL, [sorted(set(skus))])
        rows = cursor.fetchall()
    return {
        sku: ProductInfo(pk, sku, name, unit_price, tax_rate, is_active, weight_kg, is_fragile,
                         available_from,
                         costs={code: Decimal(cost)
                                for code, cost in (json.loads(costs) if costs else {}).items()},
                         tax_category=tax_category)
        for (pk, sku, name, unit_price, tax_rate, is_active, weight_kg, is_fragile,
             available_from, tax_category, costs) in rows
    }


def vat_rates(*, country: str) -> dict[str, Decimal]:
    """The VAT rate per tax category of one country (empty outside the table)."""
    return dict(VatRate.objects.filter(country=country).values_list("category", "rate"))


# {country: {category: "rate"}} of some countries (NULL: no row); rates as
# text, so none passes through a JSON float.
_VAT_RATES_SQL = """(
SELECT jsonb_object_agg(t.country, t.rates)
  FROM (SELECT v.country, jsonb_object_agg(v.category, v.rate::text) AS rates
          FROM inventory_vatrate v
         WHERE v.country = ANY(%s::text[])
         GROUP BY v.country) t)"""


def vat_rates_column(*, countries: list[str]) -> RawSQL:
    """`vat_rates` of `countries` as a column of another query (placement
    reads them with its customer); `vat_rates_from_column` reads it."""
    return RawSQL(_VAT_RATES_SQL, [list(countries)],  # noqa: S611 (constant SQL, bound values)
                  output_field=JSONField())


def vat_rates_from_column(value: dict | None, *, countries: list[str]
                          ) -> dict[str, dict[str, Decimal]]:
    """Per country of `countries`, `vat_rates` of it."""
    tables = value or {}
    return {country: {category: Decimal(rate)
                      for category, rate in tables.get(country, {}).items()}
            for country in countries}
