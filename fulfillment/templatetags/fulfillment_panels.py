"""The fulfilment panel of pages owned by other apps (the order page), fed by
fulfillment.selectors, so the page's query count does not depend on the panel."""

from __future__ import annotations

from django import template

from fulfillment import selectors

register = template.Library()


@register.inclusion_tag("fulfillment/_order_shipments.html", takes_context=True)
def order_shipments(context: template.Context, order) -> dict:
    """Where the order's parcels are, for users who may see shipments."""
    allowed = context["request"].user.has_perm("fulfillment.view_shipment")
    return {"shipments": selectors.shipments_of_order(order_id=order.pk) if allowed else []}


@register.inclusion_tag("fulfillment/_customer_shipments.html", takes_context=True)
def customer_shipments(context: template.Context, customer) -> dict:
    """The customer card's parcels with their tracking links."""
    allowed = context["request"].user.has_perm("fulfillment.view_shipment")
    return {"allowed": allowed,
            "shipments": selectors.shipments_of_customer(customer_id=customer.pk)
            if allowed else []}
