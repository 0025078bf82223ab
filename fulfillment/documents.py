"""The warehouse's PDFs (pick list, packing slip, shipping label), rendered
on request through oms.lib.pdf.render_pdf (static-only fetcher)."""

from __future__ import annotations

from fulfillment import selectors
from oms.lib.pdf import render_pdf


def pick_list_pdf(*, pick_list_id: int) -> bytes:
    detail = selectors.pick_list_detail(pick_list_id=pick_list_id)
    return render_pdf("pdf/fulfillment/pick_list.html", {
        "pick_list": detail.pick_list, "groups": detail.groups, "orders": detail.orders})


def _shipment_context(shipment_id: int) -> dict:
    shipment = selectors.shipment_detail(shipment_id=shipment_id)
    lines = list(shipment.lines.all())
    return {"shipment": shipment, "order": shipment.order, "warehouse": shipment.warehouse,
            "service": shipment.carrier_service, "lines": lines,
            "fragile": any(line.is_fragile for line in lines),
            "to_follow": selectors.to_follow(shipment=shipment)}


def packing_slip_pdf(*, shipment_id: int) -> bytes:
    return render_pdf("pdf/fulfillment/packing_slip.html", _shipment_context(shipment_id))


def shipping_label_pdf(*, shipment_id: int) -> bytes:
    return render_pdf("pdf/fulfillment/shipping_label.html", _shipment_context(shipment_id))
