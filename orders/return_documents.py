"""The RMA label PDF and the customer's return e-mails (outbox handler).

The label goes on the parcel the customer sends back: the return number in
large type, from the customer's address to the warehouse, and what is inside.
Rendered in the customer's language (oms.lib.pdf, static files only).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import translation

from oms.lib import outbox
from oms.lib.pdf import render_pdf
from orders.emails import send_customer_email
from orders.models import Return

RMA_LABEL_TEMPLATE = "pdf/orders/rma_label.html"


def rma_label_pdf(*, return_id: int) -> bytes:
    ret = (Return.objects.select_related("order", "order__customer", "warehouse")
           .get(pk=return_id))
    language = ret.order.customer.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        return render_pdf(RMA_LABEL_TEMPLATE, {
            "ret": ret, "order": ret.order, "customer": ret.order.customer,
            "warehouse": ret.warehouse,
            "lines": list(ret.lines.select_related("order_line").order_by("pk"))})


def rma_label_name(ret: Return) -> str:
    return f"returns/{ret.created_at.year}/{ret.number}.pdf"


@outbox.handler("orders.send_return_instructions")
def send_return_instructions(payload: dict) -> None:
    """The return was approved: e-mail the instructions with the RMA label
    attached, once per outbox row (send_customer_email records it)."""
    ret = Return.objects.select_related("warehouse").get(pk=payload["return_id"])
    name = rma_label_name(ret)
    if default_storage.exists(name):
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(rma_label_pdf(return_id=ret.pk)))
    warehouse = ret.warehouse
    send_customer_email(
        order_id=ret.order_id, kind="return_approved",
        outbox_message_id=payload["outbox_message_id"],
        extra={"number": ret.number, "days": settings.RETURN_WINDOW_DAYS,
               "warehouse": {"name": warehouse.name, "line1": warehouse.line1,
                             "line2": warehouse.line2, "postal_code": warehouse.postal_code,
                             "city": warehouse.city, "country": warehouse.country}
               if warehouse else None},
        attachments=[{"path": stored, "filename": f"{ret.number}.pdf",
                      "mimetype": "application/pdf"}])
