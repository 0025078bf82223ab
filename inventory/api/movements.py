"""Stock that physically moves: shipped orders leave (with short picks) and
customer returns come back, each written to the ledger."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.api.locks import lock_active_reservations, lock_stock_levels, lower_levels
from inventory.models import Product, Reservation, StockLevel, StockMovement, Warehouse
from oms.lib.errors import ApplicationError, Conflict

SHORT_PICK_REASON = "short pick"


def consume(*, order_id: int, warehouse_id: int | None = None, actor_id: int | None = None,
            reference: str = "", shipped: dict[int, int] | None = None,
            keep_rest: bool = False) -> None:
    """Ship the order's firm reservations (optionally of one warehouse).

    The goods leave: on_hand and reserved both drop and the ledger gets one
    'shipment' movement per product and warehouse.

    `shipped` (order line id -> units actually leaving; a line not named
    ships nothing; None: everything reserved ships) is for a short pick:
    a reservation is cut to the units that ship (consumed) and the rest is
    written as its own row, released with the reason "short pick". Those
    units leave `reserved` but stay in `on_hand` (the system still believes
    they are on a shelf) until a stock count adjusts them. With a line
    reserved in several warehouses and no `warehouse_id`, its shipped units
    are taken from its reservations in id order.

    `keep_rest`: the units that do not leave stay reserved for a later
    shipment (a partial shipment; short picks are written off when found,
    see `write_off_short_pick`) instead of being released.
    """
    filters: dict[str, Any] = {"kind": Reservation.Kind.FIRM}
    if warehouse_id is not None:
        filters["warehouse_id"] = warehouse_id
    with transaction.atomic():
        firm = lock_active_reservations(order_id, **filters)
        if not firm:
            raise Conflict(_("This order has no firm reservation to ship."),
                           code="nothing_to_consume")
        leaving = ({r.pk: r.quantity for r in firm} if shipped is None
                   else _units_leaving(firm, shipped))
        now = timezone.now()
        whole = [r.pk for r in firm if leaving[r.pk] == r.quantity]
        cut = [r for r in firm if 0 < leaving[r.pk] < r.quantity]
        short = [r.pk for r in firm if leaving[r.pk] == 0]
        Reservation.objects.filter(pk__in=whole).update(
            status=Reservation.Status.CONSUMED, status_reason=reference[:200],
            actor_id=actor_id, updated_at=now)
        for r in cut:
            Reservation.objects.filter(pk=r.pk).update(
                quantity=leaving[r.pk], status=Reservation.Status.CONSUMED,
                status_reason=reference[:200], actor_id=actor_id, updated_at=now)
        rest_status = Reservation.Status.ACTIVE if keep_rest else Reservation.Status.RELEASED
        Reservation.objects.bulk_create([
            Reservation(order_id=r.order_id, order_line_id=r.order_line_id,
                        product_id=r.product_id, warehouse_id=r.warehouse_id,
                        quantity=r.quantity - leaving[r.pk], kind=r.kind, expires_at=None,
                        status=rest_status,
                        status_reason="" if keep_rest else SHORT_PICK_REASON,
                        actor_id=actor_id)
            for r in cut])
        if not keep_rest:
            Reservation.objects.filter(pk__in=short).update(
                status=Reservation.Status.RELEASED, status_reason=SHORT_PICK_REASON,
                actor_id=actor_id, updated_at=now)
        reserved: dict[tuple[int, int], int] = defaultdict(int)
        out: dict[tuple[int, int], int] = defaultdict(int)
        for r in firm:
            if keep_rest and not leaving[r.pk]:
                continue
            reserved[(r.product_id, r.warehouse_id)] += (
                leaving[r.pk] if keep_rest else r.quantity)
            out[(r.product_id, r.warehouse_id)] += leaving[r.pk]
        lower_levels(reserved=reserved, on_hand=out)
        StockMovement.objects.bulk_create([
            StockMovement(product_id=p, warehouse_id=w, quantity=-q,
                          kind=StockMovement.Kind.SHIPMENT, reason=_("Shipped"),
                          actor_id=actor_id, reference=reference[:100])
            for (p, w), q in sorted(out.items()) if q
        ])


def write_off_short_pick(*, order_id: int, warehouse_id: int, lines: dict[int, int],
                         actor_id: int | None = None, reference: str = "") -> dict[int, int]:
    """The picker did not find `lines` (order line id -> units) on the shelves
    of `warehouse_id`: those units leave the order's firm reservations there
    (cut, the rest stays reserved) and leave the stock (on_hand and reserved
    drop, one 'adjustment' movement per product), so no other order is
    promised them again. Returns the units written off per line (at most
    what the line had reserved there)."""
    with transaction.atomic():
        firm = lock_active_reservations(order_id, warehouse_id=warehouse_id,
                                        kind=Reservation.Kind.FIRM)
        left = dict(lines)
        now = timezone.now()
        gone: dict[tuple[int, int], int] = defaultdict(int)
        written: dict[int, int] = defaultdict(int)
        for r in reversed(firm):  # the newest reservation gives first
            take = min(left.get(r.order_line_id, 0), r.quantity)
            if not take:
                continue
            left[r.order_line_id] -= take
            written[r.order_line_id] += take
            gone[(r.product_id, r.warehouse_id)] += take
            if take == r.quantity:
                Reservation.objects.filter(pk=r.pk).update(
                    status=Reservation.Status.RELEASED, status_reason=SHORT_PICK_REASON,
                    actor_id=actor_id, updated_at=now)
            else:
                Reservation.objects.filter(pk=r.pk).update(quantity=r.quantity - take,
                                                           updated_at=now)
                Reservation.objects.create(
                    order_id=r.order_id, order_line_id=r.order_line_id,
                    product_id=r.product_id, warehouse_id=r.warehouse_id, quantity=take,
                    kind=r.kind, status=Reservation.Status.RELEASED,
                    status_reason=SHORT_PICK_REASON, actor_id=actor_id)
        lower_levels(reserved=gone, on_hand=gone)
        StockMovement.objects.bulk_create([
            StockMovement(product_id=p, warehouse_id=w, quantity=-q,
                          kind=StockMovement.Kind.ADJUSTMENT, reason=_("Not found when picking"),
                          actor_id=actor_id, reference=reference[:100])
            for (p, w), q in sorted(gone.items())])
    return dict(written)


def _units_leaving(firm: list[Reservation], shipped: dict[int, int]) -> dict[int, int]:
    """Reservation id -> units that ship, a line's shipped units filling its
    reservations in id order. Refuses (before any write) a quantity that is
    not a whole number >= 0 or exceeds what the line has reserved here."""
    left = dict(shipped)
    for line_id, quantity in left.items():
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise ApplicationError(_("Shipped quantities must be whole numbers of 0 or more."),
                                   field_errors={"shipped": [str(line_id)]})
    leaving: dict[int, int] = {}
    for r in firm:  # in id order
        take = min(left.get(r.order_line_id, 0), r.quantity)
        leaving[r.pk] = take
        if take:
            left[r.order_line_id] -= take
    over = sorted(line_id for line_id, quantity in left.items() if quantity)
    if over:
        raise ApplicationError(_("More units shipped than reserved for this order."),
                               field_errors={"shipped": [str(line_id) for line_id in over]})
    return leaving


def return_stock(*, product_id: int, warehouse_id: int, quantity: int, reference: str,
                 actor_id: int | None = None, reason: str = "") -> None:
    """Goods came back from a customer into `warehouse_id`: on_hand goes up and
    the ledger gets a 'return' movement (for fulfilment's returns)."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        msg = _("Enter a quantity greater than zero.")
        raise ApplicationError(msg, field_errors={"quantity": [msg]})
    if not Product.objects.filter(pk=product_id).exists():
        raise ApplicationError(_("Unknown product."))
    if not Warehouse.objects.filter(pk=warehouse_id).exists():
        raise ApplicationError(_("Unknown warehouse."))
    with transaction.atomic():
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=product_id, warehouse_id=warehouse_id)],
            ignore_conflicts=True)
        level = lock_stock_levels(product_id=product_id, warehouse_id=warehouse_id)[0]
        StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity,
                                                      updated_at=timezone.now())
        StockMovement.objects.create(
            product_id=product_id, warehouse_id=warehouse_id, quantity=quantity,
            kind=StockMovement.Kind.RETURN, reason=(reason or _("Customer return"))[:200],
            reference=reference[:100], actor_id=actor_id)


def receive_purchased(*, product_id: int, warehouse_id: int, quantity: int, reference: str,
                      actor_id: int | None = None, reason: str = "") -> StockMovement:
    """Goods from a supplier arrived in `warehouse_id` (a purchase order
    receipt): on_hand goes up and the ledger gets a 'receipt' movement, in
    the caller's transaction."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        msg = _("Enter a quantity greater than zero.")
        raise ApplicationError(msg, field_errors={"quantity": [msg]})
    with transaction.atomic():
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=product_id, warehouse_id=warehouse_id)],
            ignore_conflicts=True)
        level = lock_stock_levels(product_id=product_id, warehouse_id=warehouse_id)[0]
        StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity,
                                                      updated_at=timezone.now())
        return StockMovement.objects.create(
            product_id=product_id, warehouse_id=warehouse_id, quantity=quantity,
            kind=StockMovement.Kind.RECEIPT, reason=(reason or _("Goods received"))[:200],
            reference=reference[:100], actor_id=actor_id)
