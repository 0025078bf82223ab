"""Read-only catalogue and stock endpoints of the JSON API (`/api/v1/`).

Mounted by `oms/urls.py` on the NinjaAPI of `oms.api`; every endpoint needs
the token's `catalogue:read` scope. Amounts are strings (Decimal, never
float); `available` is on_hand - reserved.
"""

from __future__ import annotations

from typing import Annotated

from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field, StringConstraints

from inventory.models import Product, StockLevel
from oms.api import AUTH_ERRORS, ErrorOut, check_query, require_scope
from oms.lib.validation import NO_NUL
from oms.models import ApiScope

router = Router(tags=["catalogue"], auth=require_scope(ApiScope.CATALOGUE_READ))

MAX_PAGE = 200
# Deeper pages are refused (422), not passed on to PostgreSQL's OFFSET.
MAX_OFFSET = 2**31 - 1

Sku = Annotated[str, StringConstraints(min_length=1, max_length=64,  # Product.sku
                                       pattern=NO_NUL)]


class WarehouseStockOut(Schema):
    warehouse: str = Field(description="Warehouse code.")
    on_hand: int
    reserved: int
    available: int


class ProductOut(Schema):
    sku: str
    name: str
    description: str
    unit_price: str = Field(description="Net unit price, decimal string.")
    tax_rate: str = Field(description="Tax rate in percent, decimal string.")
    weight_kg: str
    length_cm: str
    width_cm: str
    height_cm: str
    is_fragile: bool
    is_active: bool
    available: int = Field(description="Sellable quantity over all active warehouses.")


class ProductDetailOut(ProductOut):
    stock: list[WarehouseStockOut]


class ProductPage(Schema):
    count: int | None = Field(None, description="Not computed; page with `next_offset`.")
    next_offset: int | None
    items: list[ProductOut]


class ProductFilters(Schema):
    model_config = ConfigDict(extra="forbid")

    q: str = Field("", max_length=100, pattern=NO_NUL, description="Search in SKU and name.")
    active: bool | None = Field(None, description="Only active (true) or inactive (false).")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class StockOut(Schema):
    sku: str
    available: int
    warehouses: list[WarehouseStockOut]


def _stock_rows(product_ids: list[int]) -> dict[int, list[WarehouseStockOut]]:
    rows: dict[int, list[WarehouseStockOut]] = {pid: [] for pid in product_ids}
    levels = (StockLevel.objects.filter(product_id__in=product_ids, warehouse__is_active=True)
              .select_related("warehouse").order_by("product_id", "warehouse__code"))
    for level in levels:
        rows[level.product_id].append(WarehouseStockOut(
            warehouse=level.warehouse.code, on_hand=level.on_hand, reserved=level.reserved,
            available=level.on_hand - level.reserved))
    return rows


def _product_out(product: Product, available: int) -> dict:
    return {
        "sku": product.sku, "name": product.name, "description": product.description,
        "unit_price": str(product.unit_price), "tax_rate": str(product.tax_rate),
        "weight_kg": str(product.weight_kg), "length_cm": str(product.length_cm),
        "width_cm": str(product.width_cm), "height_cm": str(product.height_cm),
        "is_fragile": product.is_fragile, "is_active": product.is_active,
        "available": max(available, 0),
    }


def _available_totals(product_ids: list[int]) -> dict[int, int]:
    totals = (StockLevel.objects.filter(product_id__in=product_ids, warehouse__is_active=True)
              .values("product_id")
              .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved")))
    return {row["product_id"]: row["on_hand"] - row["reserved"] for row in totals}


@router.get("/products", response={200: ProductPage, 422: ErrorOut, **AUTH_ERRORS},
            summary="List and search products")
def list_products(request, filters: Query[ProductFilters]):
    """Products by SKU, a page at a time. Scope: `catalogue:read`."""
    check_query(request, ProductFilters.model_fields)
    products = Product.objects.order_by("sku")
    if filters.q:
        products = products.filter(Q(sku__icontains=filters.q) | Q(name__icontains=filters.q))
    if filters.active is not None:
        products = products.filter(is_active=filters.active)
    # One row more than the page tells whether there is a next page (no COUNT(*)).
    page = list(products[filters.offset:filters.offset + filters.limit + 1])
    has_next = len(page) > filters.limit
    page = page[:filters.limit]
    totals = _available_totals([p.pk for p in page])
    return {
        "count": None,
        "next_offset": filters.offset + filters.limit if has_next else None,
        "items": [_product_out(p, totals.get(p.pk, 0)) for p in page],
    }


@router.get("/products/{sku}",
            response={200: ProductDetailOut, 404: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
            summary="One product with its stock")
def product_detail(request, sku: Sku):
    """One product and its stock per warehouse. Scope: `catalogue:read`."""
    product = get_object_or_404(Product, sku=sku)
    stock = _stock_rows([product.pk])[product.pk]
    return {**_product_out(product, sum(row.available for row in stock)), "stock": stock}


@router.get("/stock", response={200: list[StockOut], 422: ErrorOut, **AUTH_ERRORS},
            summary="Stock per warehouse for some SKUs")
def stock(request,
          sku: list[Sku] = Query(..., max_length=MAX_PAGE)):  # noqa: B008
    """`?sku=A&sku=B`, up to 200 SKUs: unknown SKUs are left out of the answer.
    Scope: `catalogue:read`."""
    check_query(request, ["sku"])
    products = list(Product.objects.filter(sku__in=sku).order_by("sku"))
    rows = _stock_rows([p.pk for p in products])
    return [
        {"sku": p.sku, "available": max(sum(r.available for r in rows[p.pk]), 0),
         "warehouses": rows[p.pk]}
        for p in products
    ]
