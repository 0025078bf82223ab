"""Reads of returns (RMA): what an order can still send back, the back
office's and the warehouse's lists, a return's page, the order's and the
customer's returns, and returns for the search box."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from inventory.models import Reservation
from oms.lib.search import Hit
from orders.models import Order, OrderLine, Return, ReturnLine, ReturnStatus


@dataclass(frozen=True)
class ReturnableLine:
    order_line_id: int
    sku: str
    name: str
    shipped: int
    returned: int  # on returns that are not refused

    @property
    def returnable(self) -> int:
        return max(self.shipped - self.returned, 0)


@dataclass(frozen=True)
class Returnable:
    lines: list[ReturnableLine]
    shipped_at: datetime | None  # the last shipment's
    window_closed: bool  # RETURN_WINDOW_DAYS after shipped_at
    warehouse_id: int | None  # where the goods left from (the most units)

    @property
    def any_returnable(self) -> bool:
        return any(line.returnable for line in self.lines)


def returnable_lines(*, order_id: int) -> Returnable:
    """Per order line: shipped units (consumed reservations), units on
    returns that are not refused, and what can still be returned."""
    shipped: dict[int, int] = {}
    by_warehouse: dict[int, int] = {}
    shipped_at: datetime | None = None
    for line_id, warehouse_id, quantity, updated_at in (
            Reservation.objects.filter(order_id=order_id, status=Reservation.Status.CONSUMED)
            .values_list("order_line_id", "warehouse_id", "quantity", "updated_at")):
        shipped[line_id] = shipped.get(line_id, 0) + quantity
        by_warehouse[warehouse_id] = by_warehouse.get(warehouse_id, 0) + quantity
        shipped_at = max(shipped_at, updated_at) if shipped_at else updated_at
    returned = dict(
        ReturnLine.objects.filter(ret__order_id=order_id)
        .exclude(ret__status=ReturnStatus.REFUSED)
        .values("order_line_id").annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units"))
    lines = [ReturnableLine(order_line_id=line.pk, sku=line.sku, name=line.name,
                            shipped=shipped.get(line.pk, 0), returned=returned.get(line.pk, 0))
             for line in OrderLine.objects.filter(order_id=order_id).order_by("position")]
    window_closed = shipped_at is not None and timezone.now() > shipped_at + timedelta(
        days=settings.RETURN_WINDOW_DAYS)
    source: int | None = None
    if by_warehouse:
        source = max(by_warehouse, key=lambda w: (by_warehouse[w], -w))
    return Returnable(lines=lines, shipped_at=shipped_at, window_closed=window_closed,
                      warehouse_id=source)


def returns_page(*, status: str = "", query: str = "", limit: int = 50) -> list[Return]:
    """The back office's returns list: newest first, by state, searched by
    return number, order number or customer name/e-mail."""
    returns = Return.objects.select_related("order", "order__customer")
    if status:
        returns = returns.filter(status=status)
    if query:
        returns = returns.filter(Q(number__icontains=query) | Q(order__number__icontains=query)
                                 | Q(order__customer__name__icontains=query)
                                 | Q(order__customer__email__icontains=query))
    return list(returns.order_by("-created_at", "-id")[:limit])


def return_detail(*, return_id: int) -> Return:
    return (Return.objects.select_related("order", "order__customer", "warehouse",
                                          "exchange_order", "requested_by")
            .prefetch_related("lines__order_line").get(pk=return_id))


def order_returns(*, order_id: int) -> list[Return]:
    """The order's returns, newest first, each with `units` (on its lines)."""
    return list(Return.objects.filter(order_id=order_id).annotate(units=Sum("lines__quantity"))
                .order_by("-created_at", "-id"))


def returns_for_warehouse(*, limit: int = 200) -> list[Return]:
    """Returns the warehouse has work on: goods on their way (approved, or
    brought back by the carrier) and received goods waiting for inspection,
    oldest first, each with `units`."""
    return list(Return.objects.filter(status__in=[
        ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT, ReturnStatus.RECEIVED])
        .select_related("order", "order__customer", "warehouse")
        .annotate(units=Sum("lines__quantity")).order_by("created_at", "id")[:limit])



def customer_returns(*, customer_id: int, limit: int = 20) -> list[Return]:
    """The customer's returns, newest first, each with its order and `units`."""
    return list(Return.objects.filter(order__customer_id=customer_id).select_related("order")
                .annotate(units=Sum("lines__quantity")).order_by("-created_at", "-id")[:limit])


def returnable_orders(*, customer_id: int, limit: int = 10) -> list[Order]:
    """The customer's latest orders with shipped units not yet on a return
    that is not refused, each with `returnable` (units): one query. The
    return's own page applies the window and the limits per line."""
    shipped = (Reservation.objects.filter(order_id=OuterRef("pk"),
                                          status=Reservation.Status.CONSUMED)
               .order_by().values("order_id").annotate(units=Sum("quantity")).values("units"))
    returned = (ReturnLine.objects.filter(ret__order_id=OuterRef("pk"))
                .exclude(ret__status=ReturnStatus.REFUSED)
                .order_by().values("ret__order_id").annotate(units=Sum("quantity"))
                .values("units"))
    return list(Order.objects.filter(customer_id=customer_id)
                .annotate(returnable=Coalesce(Subquery(shipped), 0)
                          - Coalesce(Subquery(returned), 0))
                .filter(returnable__gt=0).only("pk", "number", "created_at")
                .order_by("-created_at", "-id")[:limit])




def return_search_hits(query: str, limit: int) -> list[Hit]:
    """Returns for the search box: by number or a fragment of it (trigram
    index). Every return number has digits: text without any finds none and
    costs no query."""
    if not any(char.isdigit() for char in query):
        return []
    returns = (Return.objects.select_related("order").only("pk", "number", "status",
                                                            "created_at", "order__number")
               .filter(number__icontains=query))
    return [Hit(ret.number, f"{ret.order.number} · {ret.get_status_display()}",
                reverse("orders:return_detail", args=[ret.pk]))
            for ret in returns.order_by("-created_at", "-id")[:limit]]


def return_exact_hit(query: str) -> str | None:
    return_id = Return.objects.filter(number=query.upper()).values_list("pk", flat=True).first()
    return reverse("orders:return_detail", args=[return_id]) if return_id else None

