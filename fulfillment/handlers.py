"""Outbox handlers of the fulfillment app (imported by FulfillmentConfig.ready)."""

from __future__ import annotations

from fulfillment import services
from oms.lib import outbox

ORDER_CANCELLED_HANDLER = "fulfillment.order_cancelled"


@outbox.handler(ORDER_CANCELLED_HANDLER)
def order_cancelled(payload: dict) -> None:
    """"order.cancelled": drop the order's open pick lines and packed shipments."""
    services.cancel_for_order(order_id=payload["order_id"])
