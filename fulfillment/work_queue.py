"""Fulfillment's part of the work queue and of the order list's bulk actions
(registered in FulfillmentConfig.ready): orders late against their promised
date, shipments the carrier reports in trouble; a pick list per order."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fulfillment import services
from fulfillment.lateness import late_orders
from fulfillment.models import Shipment, ShipmentEvent
from oms.lib import bulk
from oms.lib.actors import Actor
from oms.lib.errors import NotAllowed
from oms.lib.workqueue import Link, Row, Source

LATE = "late_orders"
CARRIER_EXCEPTIONS = "carrier_exceptions"
# Carrier statuses that need a person: the parcel is stuck or coming back.
TROUBLE_STATUSES = ("exception", "returned")

_ORDER_LINK = gettext_lazy("Open the order")


def late() -> list[Row]:
    """Waiting orders whose expected stock misses the promised date, as old
    as the order; a new expected date is a new occurrence."""
    rows = []
    for item in late_orders():
        order = item.order
        since = order.placed_at or order.created_at
        rows.append(Row(
            kind=LATE, object_id=order.pk, order_id=order.pk,
            version=f"{item.promised.isoformat()}:{item.expected or 'none'}",
            title=f"{order.number} · {order.customer.name}", since=since,
            reason=_("Promised for %(date)s: %(why)s")
            % {"date": date_format(item.promised, "SHORT_DATE_FORMAT"), "why": item.reason_text},
            links=(Link(_ORDER_LINK, "orders:detail", order.pk),)))
    return rows


def carrier_exceptions() -> list[Row]:
    """Shipments not delivered whose latest trouble report is still the
    news: one row per shipment, its latest exception or return."""
    events = (ShipmentEvent.objects
              .filter(status__in=TROUBLE_STATUSES, shipment__status=Shipment.Status.SHIPPED)
              .select_related("shipment__order__customer")
              .order_by("shipment_id", "-occurred_at", "-id").distinct("shipment_id"))
    rows = []
    for event in events:
        shipment = event.shipment
        order = shipment.order
        reason = (_("The carrier is bringing the parcel back: %(detail)s")
                  if event.status == "returned" else
                  _("The carrier reports a problem: %(detail)s"))
        rows.append(Row(
            kind=CARRIER_EXCEPTIONS, object_id=shipment.pk, order_id=order.pk,
            version=str(event.pk), since=event.occurred_at,
            title=f"{shipment.tracking_number or shipment.number} · {order.number} · "
                  f"{order.customer.name}",
            reason=reason % {"detail": event.description or _("no details given")},
            links=(Link(gettext_lazy("Open the shipment"), "fulfillment:shipment", shipment.pk),
                   Link(_ORDER_LINK, "orders:detail", order.pk))))
    return rows


SOURCES = [
    Source(LATE, gettext_lazy("Late orders"), "orders.view_order", late, rank=20),
    Source(CARRIER_EXCEPTIONS, gettext_lazy("Carrier exceptions"), "orders.view_order",
           carrier_exceptions, rank=30),
]


def create_pick_list(order_id: int, actor: Actor, params: Mapping[str, str]) -> str:
    """A pick list of the order's reserved stock in each warehouse it is
    reserved in (one per warehouse)."""
    warehouses = services.reserved_warehouses(order_id=order_id)
    if not warehouses:
        raise NotAllowed(_("Nothing reserved to pick."), code="nothing_to_pick")
    numbers = []
    for warehouse_id in warehouses:
        try:
            numbers.append(services.create_pick_list(warehouse_id=warehouse_id,
                                                     order_ids=[order_id], actor=actor).number)
        except NotAllowed as refused:
            if refused.code != "nothing_to_pick":
                raise
    if not numbers:
        raise NotAllowed(_("Already on a pick list."), code="already")
    return _("Pick list %(numbers)s.") % {"numbers": ", ".join(numbers)}


ACTIONS = [
    bulk.Action("pick_list", gettext_lazy("Create pick list"), "fulfillment.add_picklist",
                create_pick_list, rank=30),
]
