"""Read-only catalogue and stock figures for other apps."""

from __future__ import annotations

from decimal import Decimal

from inventory.api.types import ProductInfo, WarehouseAvailability
from inventory.models import Product, StockLevel, VatRate


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


def products_by_sku(*, skus: list[str]) -> dict[str, ProductInfo]:
    """Catalogue data for the given SKUs (exact match); unknown SKUs are absent."""
    fields = ("pk", "sku", "name", "unit_price", "tax_rate", "is_active", "weight_kg",
              "is_fragile", "tax_category")
    return {
        row[1]: ProductInfo(*row)
        for row in Product.objects.filter(sku__in=set(skus)).values_list(*fields)
    }



def vat_rates(*, country: str) -> dict[str, Decimal]:
    """The VAT rate per tax category of one country (empty outside the table)."""
    return dict(VatRate.objects.filter(country=country).values_list("category", "rate"))
