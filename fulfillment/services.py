"""Writes of the fulfillment app: pick, pack, ship, deliver.

Entry services are durable transactions. Lock order (the same as the order
services, so shipping and cancelling one order cannot deadlock): the order
row first (`orders.services.lock_order`), then this app's rows (pick list,
shipment), then reservations and stock levels inside `inventory.api`.
Orders move only through `orders.services`; stock only through
`inventory.api`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from fulfillment.inputs import MAX_NOTE, CarrierEvent, Handover, Packing, PickScan, Unpick
from fulfillment.models import PickList, PickListLine, Shipment, ShipmentEvent, ShipmentLine
from inventory import api as inventory_api
from inventory.models import BinLocation, Reservation, Warehouse
from oms.lib import events, outbox
from oms.lib.actors import Actor
from oms.lib.actors import actor_id as _actor_id
from oms.lib.errors import ApplicationError, Conflict, NotAllowed
from orders import events as order_events
from orders import services as order_services
from orders.models import Order, OrderLine, Return, ReturnChannel
from orders.services import EMAIL_HANDLER
from orders.services import returns as return_services

MAX_ORDERS_PER_PICK_LIST = 200
# Domain event: one shipment of an order left (payload order_id, shipment_id,
# shipment_number, shipped_on, lines {order line id: units}, earlier_shipments).
SHIPMENT_LEFT = "shipment.left"


def _refused(message: str, subject: Order | PickList | Shipment) -> NotAllowed:
    """`message` about a transition `subject`'s status does not allow."""
    return NotAllowed(message % {"number": subject.number,
                                 "status": subject.get_status_display().lower()},
                      code="illegal_transition")


def lock_pick_list(pick_list_id: int) -> PickList:
    """The pick list row, locked; refused unless it is still open."""
    pick_list = PickList.objects.select_for_update().filter(pk=pick_list_id).first()
    if pick_list is None:
        raise ApplicationError(_("Pick list not found."), code="not_found")
    if not pick_list.is_open:
        raise _refused(_("Pick list %(number)s is %(status)s."), pick_list)
    return pick_list


def lock_shipment(shipment_id: int) -> Shipment:
    """The shipment row, locked (after its order's row: see the lock order above)."""
    shipment = Shipment.objects.select_for_update().filter(pk=shipment_id).first()
    if shipment is None:
        raise ApplicationError(_("Shipment not found."), code="not_found")
    return shipment


def _firm_reservations(order_ids: list[int], warehouse_id: int | None = None
                       ) -> QuerySet[Reservation]:
    filters = Q(order_id__in=order_ids, kind=Reservation.Kind.FIRM,
                status=Reservation.Status.ACTIVE)
    if warehouse_id is not None:
        filters &= Q(warehouse_id=warehouse_id)
    return Reservation.objects.filter(filters)


def reserved_warehouses(*, order_id: int) -> list[int]:
    """The warehouses holding firm stock of the order, in id order."""
    return sorted(set(_firm_reservations([order_id]).values_list("warehouse_id", flat=True)))


def create_pick_list(*, warehouse_id: int, order_ids: list[int], actor: Actor) -> PickList:
    """One pick list for many orders' stock in one warehouse (batch picking).

    Takes each order's firm reservations in the warehouse that are not on a
    pick list yet; reserved orders move to picking (an order split over two
    warehouses is already picking when its second part is listed).
    """
    order_ids = sorted({int(pk) for pk in order_ids})
    if not order_ids:
        raise ApplicationError(_("Choose at least one order."),
                               field_errors={"order_ids": [_("Choose at least one order.")]})
    if len(order_ids) > MAX_ORDERS_PER_PICK_LIST:
        raise ApplicationError(_("At most %(n)d orders per pick list.")
                               % {"n": MAX_ORDERS_PER_PICK_LIST})
    warehouse = Warehouse.objects.filter(pk=warehouse_id, is_active=True).first()
    if warehouse is None:
        raise ApplicationError(_("Unknown warehouse."),
                               field_errors={"warehouse": [_("Choose a warehouse.")]})
    with transaction.atomic(durable=True):
        orders = []
        for order_id in order_ids:  # primary-key order, like every lock helper
            orders.append(order_services.lock_order(order_id=order_id))
        refused = [o.number for o in orders if not o.is_pickable]
        if refused:
            raise NotAllowed(_("Not ready to pick: %(orders)s.") % {"orders": ", ".join(refused)},
                             code="illegal_transition")
        # A line's reserved units here, less those already on a pick list
        # and not shipped yet (open: to pick; picked or short: what was found).
        quantities: dict[int, int] = defaultdict(int)
        for line_id, quantity in _firm_reservations(order_ids, warehouse.pk).values_list(
                "order_line_id", "quantity"):
            quantities[line_id] += quantity
        for line_id, status, quantity, picked in (
                PickListLine.objects.filter(order_id__in=order_ids,
                                            pick_list__warehouse_id=warehouse.pk)
                .exclude(status=PickListLine.Status.CANCELLED)
                .filter(Q(shipment__isnull=True) | Q(shipment__status=Shipment.Status.PACKED))
                .values_list("order_line_id", "status", "quantity", "quantity_picked")):
            quantities[line_id] -= quantity if status == PickListLine.Status.OPEN else picked
        quantities = defaultdict(int, {pk: q for pk, q in quantities.items() if q > 0})
        if not quantities:
            raise NotAllowed(_("These orders have nothing left to pick in %(warehouse)s.")
                             % {"warehouse": warehouse.code}, code="nothing_to_pick")
        lines = list(OrderLine.objects.filter(pk__in=list(quantities)))
        bins = dict(BinLocation.objects.filter(
            warehouse=warehouse, product_id__in={line.product_id for line in lines})
            .values_list("product_id", "code"))
        pick_list = PickList.objects.create(warehouse=warehouse, created_by_id=_actor_id(actor))
        PickListLine.objects.bulk_create([
            PickListLine(pick_list=pick_list, order_id=line.order_id, order_line=line,
                         product_id=line.product_id, sku=line.sku, name=line.name,
                         bin_code=bins.get(line.product_id, ""),
                         quantity=quantities[line.pk])
            for line in sorted(lines, key=lambda li: (bins.get(li.product_id, "~"), li.sku,
                                                      li.order_id, li.pk))
        ])
        listed = {line.order_id for line in lines}
        for order in orders:
            if order.pk in listed and can_proceed(order.start_picking):
                order_services.start_picking(order_id=order.pk, actor=actor,
                                             data={"pick_list": pick_list.number,
                                                   "warehouse": warehouse.code})
    return pick_list


def confirm_pick(*, pick_list_id: int, data: PickScan, actor: Actor) -> list[PickListLine]:
    """A scanned or typed SKU and quantity: fills the open lines of that SKU
    in walk order (bin, then order). Returns the lines it changed."""
    sku, quantity = data.sku, data.quantity
    with transaction.atomic(durable=True):
        pick_list = lock_pick_list(pick_list_id)
        lines = list(pick_list.lines.select_for_update()
                     .filter(sku__iexact=sku, status=PickListLine.Status.OPEN)
                     .order_by("bin_code", "order_id", "id"))
        if not lines:
            raise ApplicationError(_("%(sku)s is not (or no longer) to pick on this list.")
                                   % {"sku": sku}, field_errors={"sku": [_("Not on this list.")]},
                                   code="unknown_sku")
        remaining = sum(line.remaining for line in lines)
        if quantity > remaining:
            raise ApplicationError(
                _("Only %(n)d of %(sku)s left to pick.") % {"n": remaining, "sku": sku},
                field_errors={"quantity": [_("At most %(n)d.") % {"n": remaining}]},
                code="overpick")
        changed = []
        left = quantity
        for line in lines:
            if left == 0:
                break
            take = min(left, line.remaining)
            line.quantity_picked += take
            left -= take
            if line.remaining == 0:
                line.status = PickListLine.Status.PICKED
            line.save(update_fields=["quantity_picked", "status"])
            changed.append(line)
    return changed


def unpick(*, pick_line_id: int, data: Unpick, actor: Actor) -> PickListLine:
    """Put `data.quantity` picked units of one pick list line back in their
    bin, before the line is packed: they stay reserved for the order (picking
    moves no stock, so neither does this), leave the pick list (a later list
    takes them again) and are no longer picked, so a change of the order may
    now take them off the line. An event on the order says so.

    Locks the order row, then the pick list, then its line: a pack of the
    same order waits, and whichever commits first wins; the other is refused
    (packed: `Conflict`; nothing left picked to pack: `NotAllowed`).
    """
    ids = (PickListLine.objects.filter(pk=pick_line_id)
           .values_list("order_id", "pick_list_id").first())
    if ids is None:
        raise ApplicationError(_("Pick list line not found."), code="not_found")
    order_id, pick_list_id = ids
    with transaction.atomic(durable=True):
        order = order_services.lock_order(order_id=order_id)
        pick_list = (PickList.objects.select_for_update(of=("self",))
                     .select_related("warehouse").get(pk=pick_list_id))
        line = (PickListLine.objects.select_for_update().select_related("order_line")
                .get(pk=pick_line_id))
        if line.shipment_id is not None:
            raise Conflict(_("%(sku)s of %(number)s is already packed: it can no longer be "
                             "unpicked.") % {"sku": line.sku, "number": order.number},
                           code="already_packed")
        if line.status == PickListLine.Status.CANCELLED or not line.quantity_picked:
            raise NotAllowed(_("Nothing of %(sku)s is picked on this line.")
                             % {"sku": line.sku}, code="nothing_picked")
        if data.quantity > line.quantity_picked:
            raise ApplicationError(
                _("Only %(n)d of %(sku)s are picked on this line.")
                % {"n": line.quantity_picked, "sku": line.sku},
                field_errors={"quantity": [_("At most %(n)d.") % {"n": line.quantity_picked}]},
                code="overunpick")
        line.quantity_picked -= data.quantity
        if line.quantity == data.quantity:  # nothing of it left on the list
            line.status = PickListLine.Status.CANCELLED
        else:
            line.quantity -= data.quantity
        line.save(update_fields=["quantity", "quantity_picked", "status"])
        order_events.units_unpicked(order, actor=actor, pick_list=pick_list.number,
                                    warehouse=pick_list.warehouse.code, bin_code=line.bin_code,
                                    line=line.order_line, quantity=data.quantity,
                                    reason=data.reason)
    return line


def complete_pick_list(*, pick_list_id: int, actor: Actor, reason: str = "") -> PickList:
    """Close the walk. Lines not fully found become short: their missing
    quantity is recorded on each order as backordered (with an event)."""
    with transaction.atomic(durable=True):
        # Order rows first (the lock order), then the pick list.
        order_ids = sorted(set(PickListLine.objects.filter(pick_list_id=pick_list_id)
                               .values_list("order_id", flat=True)))
        picking = {order_id for order_id in order_ids
                   if order_services.lock_order(order_id=order_id).is_picking}
        pick_list = lock_pick_list(pick_list_id)
        short: dict[int, dict[int, int]] = defaultdict(dict)
        open_lines = list(pick_list.lines.select_for_update()
                          .filter(status=PickListLine.Status.OPEN))
        for line in open_lines:
            if line.order_id not in picking:  # cancelled meanwhile: nothing to backorder
                line.status = PickListLine.Status.CANCELLED
            else:
                short[line.order_id][line.order_line_id] = line.remaining
                line.status = PickListLine.Status.SHORT
            line.save(update_fields=["status"])
        for order_id, missing in sorted(short.items()):
            order_services.record_short_pick(
                order_id=order_id, lines=missing, actor=actor,
                warehouse_id=pick_list.warehouse_id,
                reason=reason or _("Short pick on %(number)s.") % {"number": pick_list.number})
        pick_list.complete()
        pick_list.save(update_fields=["status", "completed_at"])
    return pick_list


def _warehouses_to_ship(order_id: int) -> set[int]:
    return set(_firm_reservations([order_id]).values_list("warehouse_id", flat=True))


def pack(*, order_id: int, warehouse_id: int, data: Packing, actor: Actor) -> Shipment:
    """Pack one order's picked goods in one warehouse into a shipment. When
    every warehouse holding the order's stock has packed, the order is packed."""
    with transaction.atomic(durable=True):
        order = order_services.lock_order(order_id=order_id)
        if not can_proceed(order.pack):
            raise _refused(_("Order %(number)s is %(status)s and cannot be packed."), order)
        picks = list(PickListLine.objects.select_related("pick_list")
                     .filter(order_id=order.pk, pick_list__warehouse_id=warehouse_id,
                             shipment__isnull=True)
                     .exclude(status=PickListLine.Status.CANCELLED))
        if not picks:
            raise NotAllowed(_("Nothing of %(number)s was picked in this warehouse.")
                             % {"number": order.number}, code="nothing_to_pack")
        if not all(p.pick_list.is_done for p in picks):
            raise NotAllowed(_("Finish the pick list of %(number)s before packing.")
                             % {"number": order.number}, code="still_picking")
        if Shipment.objects.filter(order=order, warehouse_id=warehouse_id,
                                   status=Shipment.Status.PACKED).exists():
            raise NotAllowed(_("Order %(number)s is already packed here.")
                             % {"number": order.number}, code="already_packed")
        picked: dict[int, int] = defaultdict(int)
        for p in picks:
            picked[p.order_line_id] += p.quantity_picked
        lines = {line.pk: line for line in OrderLine.objects.select_related("product")
                 .filter(pk__in=[pk for pk, q in picked.items() if q > 0])}
        if not lines:
            raise NotAllowed(_("Nothing of %(number)s was found on the shelves; it stays "
                               "backordered.") % {"number": order.number},
                             code="nothing_to_pack")
        assert data.weight_kg is not None  # Packing refuses a missing weight
        try:
            with transaction.atomic():
                shipment = Shipment.objects.create(
                    order=order, warehouse_id=warehouse_id, package_type=data.package_type,
                    weight_kg=data.weight_kg, packed_by_id=_actor_id(actor))
        except IntegrityError:
            raise Conflict(_("Order %(number)s is already packed here.")
                           % {"number": order.number}, code="already_packed")
        ShipmentLine.objects.bulk_create([
            ShipmentLine(shipment=shipment, order_line=line, product_id=line.product_id,
                         sku=line.sku, name=line.name, quantity=picked[line.pk],
                         is_fragile=line.product.is_fragile)
            for line in sorted(lines.values(), key=lambda li: li.position)
        ])
        PickListLine.objects.filter(pk__in=[p.pk for p in picks]).update(shipment=shipment)
        packed = dict(Shipment.objects.filter(order=order, status=Shipment.Status.PACKED)
                      .values_list("pk", "warehouse_id"))
        if _warehouses_to_ship(order.pk) <= set(packed.values()):
            order_services.mark_packed(order_id=order.pk, actor=actor,
                                       data={"shipments": sorted(packed)})
    return shipment


def ship(*, shipment_id: int, data: Handover, actor: Actor) -> Shipment:
    """Hand a packed shipment to the carrier.

    Consumes the order's firm reservation in the shipment's warehouse for
    the units on the shipment's lines (what was picked there; units reserved
    for a later part stay reserved, short-picked ones were written off when
    the pick list closed), tells the customer with the tracking link and
    what follows, publishes "shipment.left" (billing invoices per shipment
    when so set), and moves the order on once nothing packed waits: shipped
    when nothing is left, else back to reserved or backordered for its next
    part.
    Cancelling the order at the same moment waits on the order row lock:
    exactly one of the two wins.
    """
    service, tracking_number = data.carrier_service, data.tracking_number
    assert service is not None  # a Handover always has its service
    order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise ApplicationError(_("Shipment not found."), code="not_found")
    with transaction.atomic(durable=True):
        order = order_services.lock_order(order_id=order_id)
        shipment = lock_shipment(shipment_id)
        if not can_proceed(shipment.ship):
            raise _refused(_("Shipment %(number)s is %(status)s and cannot be shipped."),
                           shipment)
        if not order.is_in_warehouse:
            raise _refused(_("Order %(number)s is %(status)s and cannot be shipped."), order)
        # What leaves is what was packed here.
        shipped: dict[int, int] = defaultdict(int)
        for line_id, quantity in shipment.lines.values_list("order_line_id", "quantity"):
            shipped[line_id] += quantity
        inventory_api.consume(order_id=order.pk, warehouse_id=shipment.warehouse_id,
                              actor_id=_actor_id(actor), reference=f"{order.number}/{shipment}",
                              shipped=dict(shipped), keep_rest=True)
        shipment.ship(carrier_service=service, tracking_number=tracking_number,
                      shipping_cost=data.cost)
        try:
            with transaction.atomic():
                shipment.save()
        except IntegrityError:
            raise ApplicationError(
                _("Tracking number %(tracking)s is already used by another shipment.")
                % {"tracking": tracking_number},
                field_errors={"tracking_number": [_("Already used.")]}, code="duplicate")
        outbox.enqueue(EMAIL_HANDLER, {
            "order_id": order.pk, "kind": "shipped", "reason": "",
            "extra": {"shipment": shipment.number, "carrier": service.carrier.name,
                      "service": service.name, "transit_days": service.transit_days,
                      "tracking_number": tracking_number,
                      "tracking_url": shipment.tracking_url}},
            dedup_key=f"orders:email:{order.pk}:shipped:{shipment.pk}")
        assert shipment.shipped_at is not None  # set by the ship transition
        earlier = (Shipment.objects.filter(order=order, shipped_at__isnull=False)
                   .exclude(pk=shipment.pk).count())
        # What left, in full: subscribers (billing's invoice per shipment) do
        # not read this app's tables.
        events.publish(SHIPMENT_LEFT, {
            "order_id": order.pk, "shipment_id": shipment.pk, "shipment_number": shipment.number,
            "shipped_on": timezone.localdate(shipment.shipped_at).isoformat(),
            "lines": {str(line_id): units for line_id, units in sorted(shipped.items())},
            "earlier_shipments": earlier}, dedup_key=f"shipment:{shipment.pk}:left")
        unshipped = Shipment.objects.filter(order=order, status=Shipment.Status.PACKED).exists()
        if can_proceed(order.ship) and not unshipped:
            shipments = {"shipments": sorted(
                Shipment.objects.filter(order=order, status=Shipment.Status.SHIPPED)
                .values_list("pk", flat=True))}
            more = (_firm_reservations([order.pk]).exists()
                    or OrderLine.objects.filter(order=order, backordered_quantity__gt=0).exists())
            if more:  # a part left; the rest follows (reserved or still waiting)
                order_services.mark_part_shipped(order_id=order.pk, actor=actor,
                                                 data=shipments)
            else:
                order_services.mark_shipped(order_id=order.pk, actor=actor, data=shipments)
    return shipment


def _deliver(shipment: Shipment, *, at: datetime, actor: Actor, source: str,
             description: str = "") -> None:
    """The parcel arrived (its order row is locked first): the customer is
    told, and when it was the order's last parcel the order is delivered."""
    shipment.deliver(at=at)
    shipment.save(update_fields=["status", "delivered_at", "updated_at"])
    ShipmentEvent.objects.create(shipment=shipment, source=source,
                                 status=Shipment.Status.DELIVERED,
                                 description=description[:MAX_NOTE], occurred_at=at,
                                 actor_id=_actor_id(actor))
    order = Order.objects.get(pk=shipment.order_id)
    parcels = dict(Shipment.objects.live().filter(order_id=order.pk)
                   .values_list("pk", "status"))
    arrived = all(status == Shipment.Status.DELIVERED for status in parcels.values())
    order_services.record_parcel_delivered(
        order_id=order.pk, actor=actor,
        parcel=order_services.DeliveredParcel(
            shipment_id=shipment.pk, number=shipment.number,
            lines=tuple(shipment.lines.order_by("sku", "id")
                        .values_list("sku", "name", "quantity"))),
        several=len(parcels) > 1 or not order.is_fully_shipped,
        every_parcel=([str(Shipment(pk=pk)) for pk in sorted(parcels)]
                      if arrived and order.is_fully_shipped else None))


def _lock_order_of(shipment_id: int) -> None:
    """The shipment's order row, locked (the lock order: order, then shipment)."""
    order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
    if order_id is not None:
        order_services.lock_order(order_id=order_id)


def confirm_delivery(*, shipment_id: int, actor: Actor, delivered_at: datetime | None = None,
                     note: str = "") -> Shipment:
    """A person confirms the parcel arrived (proof of delivery by phone, etc.)."""
    with transaction.atomic(durable=True):
        _lock_order_of(shipment_id)
        shipment = lock_shipment(shipment_id)
        if not can_proceed(shipment.deliver):
            raise _refused(_("Shipment %(number)s is %(status)s; only a shipped parcel can "
                             "be delivered."), shipment)
        _deliver(shipment, at=delivered_at or timezone.now(), actor=actor,
                 source=ShipmentEvent.Source.STAFF, description=note)
    return shipment


class ShipmentNotFound(ApplicationError):
    status = 404


def _event_time_error(data: CarrierEvent, shipment: Shipment) -> ApplicationError | None:
    """A refusal when the event's time does not fit the shipment: from its
    handover to now (plus the allowed clock skew of the carrier)."""
    assert data.occurred_at is not None and shipment.shipped_at is not None
    skew = timedelta(seconds=getattr(settings, "CARRIER_EVENT_CLOCK_SKEW_SECONDS", 300))
    if data.occurred_at < shipment.shipped_at - skew:
        message = _("The time is before the shipment was handed to the carrier.")
    elif data.occurred_at > timezone.now() + skew:
        message = _("The time is in the future.")
    else:
        return None
    error = ApplicationError(_("Please correct the status update."),
                             field_errors={"occurred_at": [message]})
    error.status = 422
    return error


def record_carrier_event(data: CarrierEvent) -> Shipment:
    """A carrier's status update (API). "delivered" confirms the delivery; a
    repeat of it is recorded once and changes nothing.

    A shipment of another carrier is answered exactly like a tracking number
    nobody has (`ShipmentNotFound`), so a carrier's token learns nothing
    about other carriers' parcels. The event's time must lie between the
    handover and now (see `_event_time_error`).
    """
    tracking_number = data.tracking_number.strip()
    with transaction.atomic(durable=True):
        if data.status in _ORDER_WRITES and tracking_number and data.carrier_code:
            # A delivery moves the order on, a parcel coming back opens a
            # return on it: its row is locked first, as for every write on an
            # order (two deliveries of one order's parcels queue here).
            order_id = (Shipment.objects.filter(
                tracking_number=tracking_number,
                carrier_service__carrier__code=data.carrier_code)
                .values_list("order_id", flat=True).first())
            if order_id is not None:
                order_services.lock_order(order_id=order_id)
        # of=self: the join must not lock the carrier's rows (every event of
        # that carrier would queue behind this one).
        shipment = (Shipment.objects.select_for_update(of=("self",))
                    .filter(tracking_number=tracking_number,
                            carrier_service__carrier__code=data.carrier_code).first()
                    if tracking_number and data.carrier_code else None)
        if shipment is None:
            raise ShipmentNotFound(_("No shipment has this tracking number."),
                                   code="not_found")
        if shipment.shipped_at is None:
            raise _refused(_("Shipment %(number)s is %(status)s."), shipment)
        if data.occurred_at is None:
            data = replace(data, occurred_at=timezone.now())
        error = _event_time_error(data, shipment)
        if error is not None:
            raise error
        at = data.occurred_at
        assert at is not None
        if data.status == Shipment.Status.DELIVERED:
            if shipment.is_delivered:
                return shipment
            if not can_proceed(shipment.deliver):
                raise _refused(_("Shipment %(number)s is %(status)s."), shipment)
            _deliver(shipment, at=at, actor=None, source=ShipmentEvent.Source.CARRIER,
                     description=data.description)
        else:
            ShipmentEvent.objects.create(shipment=shipment, source=ShipmentEvent.Source.CARRIER,
                                         status=data.status, exception_kind=data.exception_kind,
                                         description=data.description[:MAX_NOTE],
                                         occurred_at=at)
            if data.status == "returned":
                _open_return_in_transit(shipment)
                _tell_customer(shipment, "shipment_returned", "returned",
                               {"return_number": _carrier_return_number(shipment)})
            elif data.status == "exception":
                _tell_customer(shipment, "shipment_exception",
                               f"exception:{data.exception_kind}",
                               {"exception_kind": data.exception_kind,
                                "description": data.description[:MAX_NOTE]})
    return shipment


# Carrier statuses that write on the order (the delivery, the return).
_ORDER_WRITES = ("delivered", "returned")


def _tell_customer(shipment: Shipment, kind: str, what: str, extra: dict) -> None:
    """The customer's e-mail about a carrier's news of the parcel, once per
    parcel and `what` (a repeated scan of the same news sends nothing)."""
    outbox.enqueue(EMAIL_HANDLER, {
        "order_id": shipment.order_id, "kind": kind, "reason": "",
        "extra": {"shipment": shipment.number, "tracking_number": shipment.tracking_number,
                  "tracking_url": shipment.tracking_url, **extra}},
        dedup_key=f"orders:email:{shipment.order_id}:{what}:{shipment.pk}")


def _carrier_return_number(shipment: Shipment) -> str:
    """The number of the return the carrier's parcel opened ("" when none:
    every unit of it was already on a customer's return)."""
    return (Return.objects.filter(order_id=shipment.order_id, channel=ReturnChannel.CARRIER,
                                  tracking_number=shipment.tracking_number)
            .values_list("number", flat=True).first() or "")


def _open_return_in_transit(shipment: Shipment) -> None:
    """The carrier brings the whole parcel back: a return of its units waits
    for the warehouse to scan it in (once per parcel, whatever the repeats)."""
    units: dict[int, int] = defaultdict(int)
    for order_line_id, quantity in shipment.lines.values_list("order_line_id", "quantity"):
        units[order_line_id] += quantity
    if units:
        return_services.open_return_in_transit(
            order_id=shipment.order_id, lines=dict(units),
            tracking_number=shipment.tracking_number, actor=None)


def cancel_for_order(*, order_id: int) -> tuple[int, int]:
    """The order was cancelled: its open pick lines and packed shipments are
    dropped (the stock was released by the cancellation). Idempotent.
    Returns (pick lines cancelled, shipments cancelled). Not durable: it runs
    as an outbox handler, inside the runner's transaction."""
    with transaction.atomic():
        order = order_services.lock_order(order_id=order_id)
        if not order.is_cancelled:
            return 0, 0
        pick_list_ids = set(PickListLine.objects.filter(
            order_id=order_id, status=PickListLine.Status.OPEN,
            pick_list__status=PickList.Status.OPEN).values_list("pick_list_id", flat=True))
        # Pick lists before their lines, as confirm_pick does (no deadlock
        # with a picker scanning the same list right now).
        pick_lists = list(PickList.objects.select_for_update().filter(
            pk__in=pick_list_ids, status=PickList.Status.OPEN).order_by("pk"))
        lines = PickListLine.objects.filter(order_id=order_id, status=PickListLine.Status.OPEN)
        cancelled_lines = lines.update(status=PickListLine.Status.CANCELLED)
        # A list whose every line is now cancelled has nothing left to walk.
        for pick_list in pick_lists:
            if not pick_list.lines.exclude(status=PickListLine.Status.CANCELLED).exists():
                pick_list.cancel()
                pick_list.save(update_fields=["status", "completed_at"])
        # Under the order's lock, as pack and ship take them: nothing races.
        shipments = list(Shipment.objects.select_for_update()
                         .filter(order_id=order_id, status=Shipment.Status.PACKED).order_by("pk"))
        for shipment in shipments:
            shipment.cancel()
            shipment.save(update_fields=["status", "cancelled_at", "updated_at"])
    return cancelled_lines, len(shipments)

