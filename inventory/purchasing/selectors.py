"""Reads of purchasing: purchase order lists and pages, suppliers, and the
units on order per product (with their expected dates)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q

from inventory.api.incoming import Incoming, covering_date, incoming, on_order
from inventory.purchase_models import (
    OPEN_PURCHASE,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    SupplierProduct,
)
from oms.lib.errors import ApplicationError
from oms.lib.paging import HasNextPage, has_next_page

PAGE_SIZE = 25

__all__ = ["Incoming", "covering_date", "incoming", "on_order"]


class NotFound(ApplicationError):
    status = 404


def purchase_order_page(*, status: str = "", supplier_id: int | None = None, query: str = "",
                        page: int = 1) -> HasNextPage:
    queryset = (PurchaseOrder.objects.select_related("supplier", "warehouse")
                .annotate(line_count=Count("lines"))
                .order_by("-created_at", "-id"))
    if status == "open":
        queryset = queryset.filter(status__in=OPEN_PURCHASE)
    elif status in PurchaseOrderStatus.values:
        queryset = queryset.filter(status=status)
    if supplier_id:
        queryset = queryset.filter(supplier_id=supplier_id)
    if query:
        queryset = queryset.filter(Q(number__icontains=query)
                                   | Q(supplier__name__icontains=query))
    return has_next_page(queryset, page=page, page_size=PAGE_SIZE)


@dataclass
class PurchaseOrderDetail:
    purchase_order: PurchaseOrder
    lines: list[PurchaseOrderLine]
    events: list

    @property
    def total(self):
        return sum((line.line_cost for line in self.lines), start=0)

    def has_line(self, line_id: int) -> bool:
        return any(line.pk == line_id for line in self.lines)

    @property
    def units_outstanding(self) -> int:
        return sum(line.outstanding for line in self.lines)


def purchase_order_detail(*, purchase_order_id: int) -> PurchaseOrderDetail:
    purchase_order = (PurchaseOrder.objects.select_related("supplier", "warehouse",
                                                           "created_by")
                      .filter(pk=purchase_order_id).first())
    if purchase_order is None:
        raise NotFound("purchase order not found", code="not_found")
    return PurchaseOrderDetail(
        purchase_order=purchase_order,
        lines=list(purchase_order.lines.order_by("position")),
        events=list(purchase_order.events.select_related("actor").order_by("created_at", "id")))


def active_suppliers() -> list[Supplier]:
    return list(Supplier.objects.filter(is_active=True).order_by("name"))


def supplier_offers(*, product_ids: list[int]) -> dict[int, list[SupplierProduct]]:
    """Per product, its active suppliers' offers, the preferred first, then
    the cheapest."""
    offers: dict[int, list[SupplierProduct]] = defaultdict(list)
    for offer in (SupplierProduct.objects.select_related("supplier")
                  .filter(product_id__in=product_ids, supplier__is_active=True)
                  .order_by("product_id", "-is_preferred", "unit_cost", "supplier_id")):
        offers[offer.product_id].append(offer)
    return dict(offers)
