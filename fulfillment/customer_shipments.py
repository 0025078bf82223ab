"""The order's shipments on the customer's order page (registered with
`orders.customer_documents` by FulfillmentConfig.ready): only parcels that
left the warehouse, with the carrier's tracking link."""

from __future__ import annotations

from fulfillment.models import Shipment
from orders.customer_documents import CustomerShipment
from orders.models import Order


def shipments_for_customer(order: Order) -> list[CustomerShipment]:
    shipments = (Shipment.objects.filter(order=order, shipped_at__isnull=False)
                 .select_related("carrier_service__carrier").order_by("shipped_at", "id"))
    return [CustomerShipment(
        number=shipment.number, status=str(shipment.get_status_display()),
        carrier=(str(shipment.carrier_service.carrier) if shipment.carrier_service else ""),
        tracking_number=shipment.tracking_number, tracking_url=shipment.tracking_url,
        shipped_at=shipment.shipped_at, delivered_at=shipment.delivered_at)
        for shipment in shipments]
