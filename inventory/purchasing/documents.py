"""The purchase order PDF and the e-mail that sends it to the supplier.

`send_to_supplier` is the outbox handler "inventory.send_purchase_order",
queued by `send_purchase_order`: after the sending transaction committed it
renders the PDF in the supplier's language, stores it, and e-mails it with
the PDF attached. The Message-ID comes from the outbox row, and the history
records each row's e-mail once, so a re-run sends nothing new.
"""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from inventory.purchase_models import PurchaseEventKind, PurchaseOrder, PurchaseOrderEvent
from inventory.purchasing import events
from inventory.purchasing.services import SEND_HANDLER
from oms.lib import outbox
from oms.lib.pdf import render_pdf

PDF_TEMPLATE = "pdf/inventory/purchase_order.html"


def _buyer() -> dict:
    return {"name": settings.SELLER_NAME, "address": settings.SELLER_ADDRESS,
            "vat_id": settings.SELLER_VAT_ID}


def purchase_order_pdf(*, purchase_order_id: int) -> bytes:
    """The purchase order as the supplier reads it, in the supplier's language."""
    purchase_order = (PurchaseOrder.objects.select_related("supplier", "warehouse")
                      .get(pk=purchase_order_id))
    lines = list(purchase_order.lines.order_by("position"))
    with translation.override(purchase_order.supplier.language or settings.LANGUAGE_CODE):
        return render_pdf(PDF_TEMPLATE, {
            "purchase_order": purchase_order, "supplier": purchase_order.supplier,
            "warehouse": purchase_order.warehouse, "lines": lines, "buyer": _buyer(),
            "total": sum((line.line_cost for line in lines), start=0)})


def pdf_name(purchase_order: PurchaseOrder) -> str:
    return f"purchase_orders/{purchase_order.created_at.year}/{purchase_order.number}.pdf"


@outbox.handler(SEND_HANDLER)
def send_to_supplier(payload: dict) -> None:
    message_id = payload["outbox_message_id"]
    with transaction.atomic():
        purchase_order = (PurchaseOrder.objects.select_for_update(of=("self",))
                          .select_related("supplier").get(pk=payload["purchase_order_id"]))
        if PurchaseOrderEvent.objects.filter(purchase_order=purchase_order,
                                             kind=PurchaseEventKind.EMAIL,
                                             data__outbox_message_id=message_id).exists():
            return
        content = purchase_order_pdf(purchase_order_id=purchase_order.pk)
        name = pdf_name(purchase_order)
        if default_storage.exists(name):
            default_storage.delete(name)
        stored = default_storage.save(name, ContentFile(content))
        if purchase_order.pdf_path != stored:
            purchase_order.pdf_path = stored
            purchase_order.save(update_fields=["pdf_path"])
        supplier = purchase_order.supplier
        context = {"purchase_order": purchase_order, "supplier": supplier, "buyer": _buyer()}
        with translation.override(supplier.language or settings.LANGUAGE_CODE):
            subject = _("Purchase order %(number)s from %(buyer)s") % {
                "number": purchase_order.number, "buyer": settings.SELLER_NAME}
            text = render_to_string("emails/inventory/purchase_order.txt", context)
            html = render_to_string("emails/inventory/purchase_order.html", context)
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].partition("@")[2] or "oms.localhost"
        message = EmailMultiAlternatives(
            subject=subject, body=text, to=[supplier.email],
            headers={"Message-ID": f"<outbox-{message_id}@{domain}>"})
        message.attach_alternative(html, "text/html")
        message.attach(f"{purchase_order.number}.pdf", content, "application/pdf")
        message.send()
        events.emailed(purchase_order, to=supplier.email, outbox_message_id=message_id)
