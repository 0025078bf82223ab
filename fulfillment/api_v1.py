"""Shipment endpoints of the JSON API (`/api/v1/`): carriers' status updates.

`POST /shipments/{tracking_number}/events` records a carrier's scan
(in transit, delivered, ...); "delivered" confirms the delivery. Bearer
token as for every endpoint; unknown tracking number 404, bad body 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Router, Schema
from pydantic import ConfigDict, StringConstraints

from fulfillment import services
from fulfillment.inputs import CarrierStatus
from fulfillment.models import Shipment

router = Router(tags=["shipments"])


class CarrierEventIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: CarrierStatus
    occurred_at: datetime | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class ShipmentOut(Schema):
    number: str
    order_number: str
    tracking_number: str
    status: str
    shipped_at: str | None
    delivered_at: str | None


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]]


def shipment_out(shipment: Shipment) -> dict:
    return {
        "number": shipment.number,
        "order_number": shipment.order.number,
        "tracking_number": shipment.tracking_number,
        "status": shipment.status,
        "shipped_at": shipment.shipped_at.isoformat() if shipment.shipped_at else None,
        "delivered_at": shipment.delivered_at.isoformat() if shipment.delivered_at else None,
    }


@router.post("/shipments/{tracking_number}/events",
             response={200: ShipmentOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                       422: ErrorOut},
             summary="Record a carrier status update")
def carrier_event(request, tracking_number: str, payload: CarrierEventIn):
    """A carrier's status update for the shipment with this tracking number.

    `delivered` confirms the delivery (a repeat changes nothing); other
    statuses are kept on the shipment's history.
    """
    shipment = services.record_carrier_event(
        tracking_number=tracking_number, status=payload.status,
        occurred_at=payload.occurred_at, description=payload.description)
    shipment = Shipment.objects.select_related("order").get(pk=shipment.pk)
    return shipment_out(shipment)
