"""The invoice PDF: rendered from templates/pdf/billing/invoice.html with the
restricted WeasyPrint fetcher (oms.lib.pdf), stored with default_storage,
then e-mailed to the customer with the PDF attached.

`render_invoice_pdf` runs in the outbox handler "billing.render_invoice_pdf"
(a Celery task after the issuing transaction committed). It queues the
invoice e-mail in its own transaction, so the e-mail row exists only once the
file is stored, and the dedup key sends it once however often it re-runs.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import translation

from billing.models import CreditNote, Invoice
from billing.services.invoicing import EMAIL_HANDLER
from oms.lib import outbox
from oms.lib.pdf import render_pdf

PDF_TEMPLATE = "pdf/billing/invoice.html"
CREDIT_NOTE_TEMPLATE = "pdf/billing/credit_note.html"


def invoice_pdf_name(invoice: Invoice) -> str:
    return f"invoices/{invoice.year}/{invoice.number}.pdf"


def invoice_context(invoice: Invoice) -> dict:
    return {"invoice": invoice, "lines": list(invoice.lines.all()),
            "tax_rates": list(invoice.tax_rates.all()), "seller": invoice.seller,
            "buyer": invoice.buyer, "order": invoice.order}


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    language = invoice.customer.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        return render_pdf(PDF_TEMPLATE, invoice_context(invoice))


def render_invoice_pdf(*, invoice_id: int, send_email: bool = True) -> str:
    """Render and store the PDF (replacing an earlier rendering), record its
    path, and queue the invoice e-mail once. Plain `atomic()`: it runs in
    the outbox runner's transaction. Returns the storage path."""
    with transaction.atomic():
        invoice = (Invoice.objects.select_for_update(of=("self",))
                   .select_related("order", "customer").get(pk=invoice_id))
        name = invoice_pdf_name(invoice)
        content = invoice_pdf_bytes(invoice)
        # A re-run writes the same name: the stored file is the invoice's.
        if default_storage.exists(name):
            default_storage.delete(name)
        stored = default_storage.save(name, ContentFile(content))
        if invoice.pdf_path != stored:
            invoice.pdf_path = stored
            invoice.save(update_fields=["pdf_path"])
        if send_email:
            outbox.enqueue(EMAIL_HANDLER, {
                "order_id": invoice.order_id, "kind": "invoice",
                "extra": {"invoice_number": invoice.number,
                          "total": str(invoice.total_gross),
                          "outstanding": str(invoice.outstanding),
                          "currency": invoice.currency,
                          "due_date": invoice.due_date.isoformat(),
                          "paid": invoice.outstanding <= 0},
                "attachments": [{"path": stored, "filename": f"{invoice.number}.pdf",
                                 "mimetype": "application/pdf"}]},
                dedup_key=f"billing:invoice-email:{invoice.pk}")
    return stored


def credit_note_pdf_bytes(note: CreditNote) -> bytes:
    """A credit note's PDF, rendered on demand: the note never changes, so
    the same bytes come out every time and nothing needs storing."""
    language = note.customer.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        return render_pdf(CREDIT_NOTE_TEMPLATE, {"note": note, "invoice": note.invoice,
                                                 "lines": list(note.lines.all())})
