"""Reads of the fulfillment app: what to pick, pack and ship, per warehouse.

Every list is a fixed number of queries (no N+1): related rows come with
select_related / prefetch_related, counts with annotations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.urls import reverse

from fulfillment.models import CarrierService, PickList, PickListLine, Shipment
from inventory.models import Reservation, Warehouse
from oms.lib.paging import HasNextPage, has_next_page
from oms.lib.search import Hit
from orders.models import Order, OrderLine, OrderStatus

PAGE_SIZE = 50
MAX_TO_PICK = 200


def warehouses() -> list[Warehouse]:
    return list(Warehouse.objects.filter(is_active=True).order_by("code"))


def _live_pick_lines(warehouse_id: int):
    return (PickListLine.objects.filter(pick_list__warehouse_id=warehouse_id)
            .exclude(status=PickListLine.Status.CANCELLED))


def orders_to_pick(*, warehouse_id: int, limit: int = MAX_TO_PICK) -> list[Order]:
    """Approved orders with firm stock in this warehouse not on a pick list
    yet, oldest first, each with `units` and `line_count` to pick here."""
    waiting = (Reservation.objects.filter(
        order_id=OuterRef("pk"), warehouse_id=warehouse_id, kind=Reservation.Kind.FIRM,
        status=Reservation.Status.ACTIVE)
        .exclude(order_line_id__in=_live_pick_lines(warehouse_id).values("order_line_id")))
    orders = list(
        Order.objects.filter(status__in=Order.PICKABLE)
        .filter(Exists(waiting))
        .select_related("customer")
        .order_by("promised_delivery_date", "placed_at", "pk")[:limit])
    units = dict(Reservation.objects.filter(
        order_id__in=[o.pk for o in orders], warehouse_id=warehouse_id,
        kind=Reservation.Kind.FIRM, status=Reservation.Status.ACTIVE)
        .values("order_id").annotate(total=Sum("quantity")).values_list("order_id", "total"))
    for order in orders:
        order.units = units.get(order.pk, 0)  # type: ignore[attr-defined]  # for the template
    return orders


def pick_list_page(*, warehouse_id: int | None, status: str = "", page: int = 1) -> HasNextPage:
    queryset = (PickList.objects.select_related("warehouse", "created_by")
                .annotate(line_count=Count("lines"),
                          open_count=Count("lines", filter=Q(
                              lines__status=PickListLine.Status.OPEN)),
                          order_count=Count("lines__order", distinct=True))
                .order_by("-created_at", "-id"))
    if warehouse_id:
        queryset = queryset.filter(warehouse_id=warehouse_id)
    if status in PickList.Status.values:
        queryset = queryset.filter(status=status)
    return has_next_page(queryset, page=page, page_size=PAGE_SIZE)


@dataclass
class PickGroup:
    """All lines of one product on a list: picked in one stop at its bin."""

    sku: str
    name: str
    bin_code: str
    is_fragile: bool
    lines: list[PickListLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def picked(self) -> int:
        return sum(line.quantity_picked for line in self.lines)

    @property
    def done(self) -> bool:
        return all(line.status != PickListLine.Status.OPEN for line in self.lines)


@dataclass
class PickListDetail:
    pick_list: PickList
    groups: list[PickGroup]
    orders: list[Order]

    @property
    def open_units(self) -> int:
        return sum(line.remaining for g in self.groups for line in g.lines
                   if line.status == PickListLine.Status.OPEN)


def pick_list_detail(*, pick_list_id: int) -> PickListDetail:
    pick_list = (PickList.objects.select_related("warehouse", "created_by")
                 .get(pk=pick_list_id))
    lines = list(pick_list.lines.select_related("order", "product")
                 .order_by("bin_code", "sku", "order_id", "id"))
    groups: dict[int, PickGroup] = {}
    for line in lines:
        group = groups.get(line.product_id)
        if group is None:
            group = groups[line.product_id] = PickGroup(
                sku=line.sku, name=line.name, bin_code=line.bin_code,
                is_fragile=line.product.is_fragile)
        group.lines.append(line)
    orders = sorted({line.order_id: line.order for line in lines}.values(),
                    key=lambda o: o.pk)
    return PickListDetail(pick_list=pick_list, groups=list(groups.values()), orders=orders)


def orders_to_pack(*, warehouse_id: int, limit: int = MAX_TO_PICK) -> list[Order]:
    """Orders picked in this warehouse (their pick list is done) that have no
    package here yet."""
    picked = _live_pick_lines(warehouse_id).filter(
        order_id=OuterRef("pk"), pick_list__status=PickList.Status.DONE, quantity_picked__gt=0)
    packed = Shipment.objects.live().filter(order_id=OuterRef("pk"), warehouse_id=warehouse_id)
    return list(Order.objects.filter(status=OrderStatus.PICKING)
                .filter(Exists(picked)).exclude(Exists(packed))
                .select_related("customer").order_by("placed_at", "pk")[:limit])


@dataclass
class PackingView:
    order: Order
    warehouse: Warehouse
    lines: list[dict]
    has_fragile: bool
    total_weight_kg: object
    still_open: bool
    suggested_package: str = "box"


# Above these, a box is no longer the right package (kg, litres).
CRATE_FROM_KG, CRATE_FROM_LITRES = 20, 60
PALLET_FROM_KG, PALLET_FROM_LITRES = 80, 300


def suggest_package(*, weight_kg, litres, fragile: bool) -> str:
    """Box, crate or pallet by weight and volume; fragile heavy goods get a crate."""
    if weight_kg >= PALLET_FROM_KG or litres >= PALLET_FROM_LITRES:
        return "pallet"
    if weight_kg >= CRATE_FROM_KG or litres >= CRATE_FROM_LITRES or (
            fragile and weight_kg >= CRATE_FROM_KG / 2):
        return "crate"
    return "box"


def packing_view(*, order_id: int, warehouse_id: int) -> PackingView:
    """What goes into the package: picked quantity per order line, the
    fragile items flagged, and a weight estimate from the catalogue."""
    order = Order.objects.select_related("customer").get(pk=order_id)
    warehouse = Warehouse.objects.get(pk=warehouse_id)
    picks = list(_live_pick_lines(warehouse_id).filter(order_id=order_id)
                 .select_related("product", "pick_list"))
    by_line: dict[int, dict] = {}
    for pick in picks:
        row = by_line.setdefault(pick.order_line_id, {
            "sku": pick.sku, "name": pick.name, "bin_code": pick.bin_code,
            "is_fragile": pick.product.is_fragile, "weight_kg": pick.product.weight_kg,
            "litres": (pick.product.length_cm or 0) * (pick.product.width_cm or 0)
            * (pick.product.height_cm or 0) / 1000,
            "quantity": 0, "picked": 0})
        row["quantity"] += pick.quantity
        row["picked"] += pick.quantity_picked
    lines = sorted(by_line.values(), key=lambda r: (not r["is_fragile"], r["sku"]))
    weight = sum((r["weight_kg"] or 0) * r["picked"] for r in lines)
    litres = sum(r["litres"] * r["picked"] for r in lines)
    fragile = any(r["is_fragile"] for r in lines)
    return PackingView(order=order, warehouse=warehouse, lines=lines, has_fragile=fragile,
                       total_weight_kg=weight,
                       still_open=any(p.pick_list.is_open for p in picks),
                       suggested_package=suggest_package(weight_kg=weight, litres=litres,
                                                         fragile=fragile))


def shipment_page(*, status: str = "", warehouse_id: int | None = None, query: str = "",
                  page: int = 1) -> HasNextPage:
    queryset = (Shipment.objects.select_related("order", "order__customer", "warehouse",
                                                "carrier_service__carrier")
                .order_by("-packed_at", "-id"))
    if status in Shipment.Status.values:
        queryset = queryset.filter(status=status)
    if warehouse_id:
        queryset = queryset.filter(warehouse_id=warehouse_id)
    if query:
        queryset = queryset.filter(Q(tracking_number__iexact=query)
                                   | Q(order__number__istartswith=query))
    return has_next_page(queryset, page=page, page_size=PAGE_SIZE)


def shipment_detail(*, shipment_id: int) -> Shipment:
    return (Shipment.objects.select_related("order", "order__customer", "warehouse",
                                            "carrier_service__carrier", "packed_by")
            .prefetch_related("lines", "events")
            .get(pk=shipment_id))


def shipments_of_order(*, order_id: int) -> list[Shipment]:
    return list(Shipment.objects.filter(order_id=order_id)
                .select_related("warehouse", "carrier_service__carrier"))


CUSTOMER_CARD_SHIPMENTS = 10


def shipments_of_customer(*, customer_id: int) -> list[Shipment]:
    """The customer's latest parcels, with their order and carrier (one query)."""
    return list(Shipment.objects.filter(order__customer_id=customer_id)
                .select_related("order", "warehouse", "carrier_service__carrier")
                .order_by("-packed_at", "-id")[:CUSTOMER_CARD_SHIPMENTS])


def carrier_services() -> list[CarrierService]:
    return list(CarrierService.objects.filter(is_active=True, carrier__is_active=True)
                .select_related("carrier").order_by("carrier__name", "transit_days", "price"))


def suggested_service(services: list[CarrierService], *, requested: str) -> int | None:
    """The first service of the carrier the customer asked for (by name or code)."""
    requested = requested.strip().lower()
    return next((s.pk for s in services if requested and (
        requested in s.carrier.name.lower() or requested == s.carrier.code.lower())), None)


def backordered_lines(*, order_id: int) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order_id=order_id, backordered_quantity__gt=0)
                .order_by("position"))





def _by_tracking(query: str) -> QuerySet[Shipment]:
    # Carriers print tracking numbers in capitals; people type them either way.
    # The partial unique index answers only when its condition is repeated.
    return Shipment.objects.filter(~Q(tracking_number=""),
                                   tracking_number__in={query, query.upper()})


def tracking_hits(query: str, limit: int) -> list[Hit]:
    """Shipments for the search box: a whole tracking number."""
    shipments = _by_tracking(query).select_related("order").only(
        "pk", "tracking_number", "order__number")[:limit]
    return [Hit(shipment.tracking_number, shipment.order.number,
                reverse("fulfillment:shipment", args=[shipment.pk])) for shipment in shipments]


def tracking_exact(query: str) -> str | None:
    shipment_id = _by_tracking(query).values_list("pk", flat=True).first()
    return reverse("fulfillment:shipment", args=[shipment_id]) if shipment_id else None
