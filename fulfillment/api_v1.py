"""Shipment endpoints of the JSON API (`/api/v1/`): carriers' status updates.

`POST /shipments/{tracking_number}/events` records a carrier's scan
(in transit, delivered, ...); "delivered" confirms the delivery. The token
needs the `carrier_events` scope and updates only its own carrier's
shipments: another carrier's tracking number answers 404 exactly like an
unknown one. The rules live in `fulfillment.services.record_carrier_event`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Router, Schema
from pydantic import ConfigDict, Field, StringConstraints

from fulfillment import services
from fulfillment.inputs import CarrierEvent, CarrierExceptionKind, CarrierStatus
from fulfillment.models import Shipment
from oms.api import AUTH_ERRORS, BODY_ERRORS, ErrorOut, require_scope
from oms.lib.validation import NO_NUL
from oms.models import ApiScope

router = Router(tags=["shipments"], auth=require_scope(ApiScope.CARRIER_EVENTS))


class CarrierEventIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: CarrierStatus
    occurred_at: datetime | None = Field(
        None, description="When the carrier scanned the parcel, with its UTC offset; between "
                          "the handover to the carrier and now. Default: now.")
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500,
                                                  pattern=NO_NUL)] = ""
    exception_kind: CarrierExceptionKind | None = Field(
        None, description="Only with the status `exception`: what went wrong (default "
                          "`other`). The customer is e-mailed once per kind and parcel.")


class ShipmentOut(Schema):
    number: str
    order_number: str
    tracking_number: str
    status: str
    shipped_at: str | None
    delivered_at: str | None


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
             response={200: ShipmentOut, 404: ErrorOut, 409: ErrorOut, **BODY_ERRORS,
                       **AUTH_ERRORS},
             summary="Record a carrier status update")
def carrier_event(request,
                  tracking_number: Annotated[str, StringConstraints(max_length=64,  # Shipment
                                                                    pattern=NO_NUL)],
                  payload: CarrierEventIn):
    """A carrier's status update for the shipment with this tracking number.

    Scope: `carrier_events`, for the carrier of the shipment: a shipment of
    another carrier answers 404 like an unknown tracking number. `delivered`
    confirms the delivery (a repeat changes nothing); other statuses are kept
    on the shipment's history. The customer is e-mailed once per parcel when
    it is delivered, once per `exception_kind` of an `exception`, and once
    when it is `returned` (which opens a return for its units). A time
    before the handover or in the future is refused (422, on `occurred_at`);
    a parcel not handed over yet 409.
    """
    shipment = services.record_carrier_event(CarrierEvent(
        carrier_code=request.auth.carrier_code, tracking_number=tracking_number,
        status=payload.status, occurred_at=payload.occurred_at,
        description=payload.description, exception_kind=payload.exception_kind or ""))
    shipment = Shipment.objects.select_related("order").get(pk=shipment.pk)
    return shipment_out(shipment)
