"""Reads of the inventory app for the back office: product search, stock per
warehouse, low stock. Every list is one query (plus one COUNT when paged)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, IntegerField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from inventory.models import (
    BinLocation,
    Product,
    ProductCost,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMovement,
    StockTransfer,
    Warehouse,
)
from oms.lib.search import Hit

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PAGE_SIZE = 25


class _Available(TypedDict):
    available_qty: int


def product_queryset(*, query: str = "", active: bool | None = None) -> QuerySet[Product]:
    """Products matching `query` on SKU or name (case-insensitive, substring),
    with their stock totals over active warehouses."""
    qs = Product.objects.all()
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(sku__icontains=query) | Q(name__icontains=query))
    if active is not None:
        qs = qs.filter(is_active=active)
    active_stock = Q(stock_levels__warehouse__is_active=True)
    zero = Value(0, output_field=IntegerField())
    return qs.annotate(
        total_on_hand=Coalesce(Sum("stock_levels__on_hand", filter=active_stock), zero),
        total_reserved=Coalesce(Sum("stock_levels__reserved", filter=active_stock), zero),
    ).annotate(total_available=F("total_on_hand") - F("total_reserved")).order_by("sku")


def product_page(*, query: str = "", active: bool | None = None, page: int | str = 1,
                 per_page: int = PAGE_SIZE) -> Page:
    paginator = Paginator(product_queryset(query=query, active=active), per_page)
    return paginator.get_page(page)


@dataclass(frozen=True)
class ProductStock:
    product: Product
    levels: list[StockLevel]  # per warehouse, each with its `bin_code` ("" when none)
    totals: dict[str, int]  # on_hand, reserved, available over the active warehouses


def product_with_stock(*, product_id: int) -> ProductStock:
    """One product with its stock per warehouse, bins and totals: three queries."""
    by_warehouse = StockLevel.objects.select_related("warehouse").order_by("warehouse__code")
    product = Product.objects.prefetch_related(
        Prefetch("stock_levels", queryset=by_warehouse),
        Prefetch("bins", queryset=BinLocation.objects.select_related("warehouse")),
    ).get(pk=product_id)
    bins = {b.warehouse_id: b.code for b in product.bins.all()}
    levels = list(product.stock_levels.all())
    for level in levels:
        level.bin_code = bins.get(level.warehouse_id, "")
    active = [lv for lv in levels if lv.warehouse.is_active]
    return ProductStock(product=product, levels=levels, totals={
        "on_hand": sum(lv.on_hand for lv in active),
        "reserved": sum(lv.reserved for lv in active),
        "available": sum(lv.available for lv in active)})


def product_costs(*, product_id: int) -> list[ProductCost]:
    """The product's unit cost in each currency it is bought in."""
    return list(ProductCost.objects.filter(product_id=product_id).order_by("currency"))


def recent_movements(*, product_id: int | None = None, warehouse_id: int | None = None,
                     limit: int = 20) -> list[StockMovement]:
    qs = StockMovement.objects.select_related("product", "warehouse", "actor")
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    return list(qs.order_by("-created_at", "-id")[:limit])


def warehouses(*, active_only: bool = True) -> QuerySet[Warehouse]:
    qs = Warehouse.objects.order_by("code")
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.annotate(product_count=Count("stock_levels"))


def stock_queryset(*, warehouse_id: int | None = None, query: str = "",
                   low_only: bool = False) -> QuerySet[WithAnnotations[StockLevel, _Available]]:
    """Stock levels with `available` = on_hand - reserved annotated."""
    qs = StockLevel.objects.select_related("product", "warehouse").annotate(
        available_qty=F("on_hand") - F("reserved"))
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(product__sku__icontains=query) | Q(product__name__icontains=query))
    if low_only:
        qs = qs.filter(available_qty__lte=F("reorder_level"))
    return qs.order_by("warehouse__code", "product__sku")


def stock_page(*, warehouse_id: int | None = None, query: str = "", low_only: bool = False,
               page: int | str = 1, per_page: int = PAGE_SIZE) -> Page:
    paginator = Paginator(stock_queryset(warehouse_id=warehouse_id, query=query,
                                         low_only=low_only), per_page)
    return paginator.get_page(page)


def low_stock(*, warehouse_id: int | None = None, limit: int = 50) -> list[StockLevel]:
    """Active products whose available quantity is at or below their reorder level."""
    qs = stock_queryset(warehouse_id=warehouse_id, low_only=True).filter(
        product__is_active=True, warehouse__is_active=True)
    return list(qs.order_by("available_qty", "product__sku")[:limit])


def sku_options(*, limit: int = 500) -> list[str]:
    """SKUs of active products, for the stock forms' autocomplete."""
    return list(Product.objects.filter(is_active=True).order_by("sku")
                .values_list("sku", flat=True)[:limit])


def stock_form_initial(*, level_id: str | None, product_id: str | None,
                       warehouse_id: str | None) -> dict:
    """Prefill a stock form from a stock level id, or a product and warehouse id."""
    if level_id and level_id.isdigit():
        level = StockLevel.objects.select_related("product").filter(pk=level_id).first()
        if level:
            return {"sku": level.product.sku, "warehouse": level.warehouse_id}
    initial: dict = {}
    if product_id and product_id.isdigit():
        product = Product.objects.filter(pk=product_id).first()
        if product:
            initial["sku"] = product.sku
    if warehouse_id and warehouse_id.isdigit():
        initial["warehouse"] = int(warehouse_id)
    return initial


def recent_transfers(*, limit: int = 20) -> list[StockTransfer]:
    return list(StockTransfer.objects.select_related("product", "from_warehouse",
                                                     "to_warehouse", "actor")
                .order_by("-id")[:limit])


def counts(*, limit: int = 50) -> list[StockCount]:
    return list(StockCount.objects.select_related("warehouse", "created_by")
                .annotate(line_count=Count("lines")).order_by("-id")[:limit])


@dataclass(frozen=True)
class CountSheet:
    count: StockCount
    # Each line with `on_hand` and `reserved` (the stock level now, or what
    # the confirmation found) and `shown_variance`.
    lines: list[StockCountLine]
    variance_units: int  # sum of the absolute variances


def count_sheet(*, count_id: int) -> CountSheet:
    """A count with its lines against the current stock levels: three queries."""
    count = StockCount.objects.select_related("warehouse", "created_by", "closed_by").get(
        pk=count_id)
    lines = list(count.lines.select_related("product").order_by("product__sku"))
    levels = {product_id: (on_hand, reserved) for product_id, on_hand, reserved in
              StockLevel.objects.filter(warehouse_id=count.warehouse_id,
                                        product_id__in=[line.product_id for line in lines])
              .values_list("product_id", "on_hand", "reserved")}
    for line in lines:
        on_hand, line.level_reserved = levels.get(line.product_id, (0, 0))
        if line.on_hand_before is not None and line.variance is not None:  # confirmed
            line.shown_on_hand, line.shown_variance = line.on_hand_before, line.variance
            line.below_reserved = False
        else:
            line.shown_on_hand, line.shown_variance = on_hand, line.counted - on_hand
            line.below_reserved = line.counted < line.level_reserved
    return CountSheet(count=count, lines=lines,
                      variance_units=sum(abs(line.shown_variance) for line in lines))


def product_hits(query: str, limit: int) -> list[Hit]:
    """Products for the search box: SKU or name contains the query (trigram indexes)."""
    products = (Product.objects.filter(Q(sku__icontains=query) | Q(name__icontains=query))
                .only("pk", "sku", "name").order_by("sku")[:limit])
    return [Hit(product.sku, product.name,
                reverse("inventory:product_detail", args=[product.pk])) for product in products]


def product_exact(query: str) -> str | None:
    product_id = (Product.objects.filter(sku__in={query, query.upper()})
                  .values_list("pk", flat=True).first())
    return reverse("inventory:product_detail", args=[product_id]) if product_id else None
