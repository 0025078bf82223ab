"""Outbox handlers of invoicing: thin wrappers that call one service.

Registered at start-up (imported in BillingConfig.ready()); the runner calls
them inside its own transaction, at least once, so each service they call is
idempotent (one invoice per order, dedup keys on the e-mails).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.services import documents, invoicing, returns
from oms.lib import outbox


@outbox.handler(invoicing.SHIPPED_HANDLER)
def invoice_shipped_order(payload: dict) -> None:
    """Subscribed to "order.shipped": capture, invoice, mark invoiced/paid."""
    invoicing.invoice_shipped_order(order_id=payload["order_id"], actor=None)


@outbox.handler(invoicing.SHIPMENT_HANDLER)
def invoice_shipment(payload: dict) -> None:
    """Subscribed to "shipment.left": invoice the shipment when each one is."""
    invoicing.invoice_shipment(
        order_id=payload["order_id"], shipment_id=payload["shipment_id"],
        shipment_number=payload.get("shipment_number", ""),
        shipped_on=date.fromisoformat(payload["shipped_on"]),
        lines={int(line_id): units for line_id, units in payload.get("lines", {}).items()},
        earlier_shipments=payload.get("earlier_shipments", 0), actor=None)


@outbox.handler(invoicing.RENDER_PDF_HANDLER)
def render_invoice_pdf(payload: dict) -> None:
    """Render and store the PDF, then queue the invoice e-mail with it."""
    documents.render_invoice_pdf(invoice_id=payload["invoice_id"])


@outbox.handler(invoicing.CREDIT_NOTE_HANDLER)
def send_credit_note(payload: dict) -> None:
    """Render and store the credit note PDF, then queue its e-mail with it."""
    documents.send_credit_note(credit_note_id=payload["credit_note_id"])


@outbox.handler(returns.REFUND_HANDLER)
def refund_return(payload: dict) -> None:
    """A settled return's refund to the captured payment (idempotent by key)."""
    returns.refund_return(return_id=payload["return_id"], payment_id=payload["payment_id"],
                          amount=Decimal(payload["amount"]))
