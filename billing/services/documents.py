"""The invoice and credit note PDFs: rendered from templates/pdf/billing/
with the restricted WeasyPrint fetcher (oms.lib.pdf), stored with
default_storage, then e-mailed to the customer with the PDF attached.

`render_invoice_pdf` runs in the outbox handler "billing.render_invoice_pdf"
and `send_credit_note` in "billing.send_credit_note" (Celery tasks after the
issuing transaction committed). Each queues its e-mail in its own
transaction, so the e-mail row exists only once the file is stored, and the
dedup key sends it once however often it re-runs.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum
from django.utils import translation

from billing.locks import lock_invoice
from billing.models import CreditNote, CustomerCredit, Invoice
from billing.services.invoicing import EMAIL_HANDLER
from oms.lib import outbox
from oms.lib.money import ZERO
from oms.lib.pdf import render_pdf
from orders.taxes import VatReason

PDF_TEMPLATE = "pdf/billing/invoice.html"
CREDIT_NOTE_TEMPLATE = "pdf/billing/credit_note.html"


def invoice_pdf_name(invoice: Invoice) -> str:
    return f"invoices/{invoice.year}/{invoice.number}.pdf"


def vat_reason_label(reason: str) -> str:
    """The VAT treatment as the documents print it ("" for the catalogue rate)."""
    if not reason or reason == VatReason.CATALOGUE:
        return ""
    return str(VatReason(reason).label)


def invoice_context(invoice: Invoice) -> dict:
    return {"invoice": invoice, "lines": list(invoice.lines.all()),
            "tax_rates": list(invoice.tax_rates.all()), "seller": invoice.seller,
            "buyer": invoice.buyer, "order": invoice.order,
            "vat_reason_label": vat_reason_label(invoice.vat_reason)}


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    language = invoice.customer.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        return render_pdf(PDF_TEMPLATE, invoice_context(invoice))


def _store(name: str, content: bytes) -> str:
    """Save `content` under `name`, replacing an earlier rendering: a re-run
    writes the same name, so the stored file is the document's."""
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def render_invoice_pdf(*, invoice_id: int, send_email: bool = True) -> str:
    """Render and store the PDF (replacing an earlier rendering), record its
    path, and queue the invoice e-mail once. Plain `atomic()`: it runs in
    the outbox runner's transaction. Returns the storage path."""
    with transaction.atomic():
        invoice = lock_invoice(invoice_id, related=("order", "customer"))
        stored = _store(invoice_pdf_name(invoice), invoice_pdf_bytes(invoice))
        if invoice.pdf_path != stored:
            invoice.pdf_path = stored
            invoice.save(update_fields=["pdf_path"])
        if send_email:
            outbox.enqueue(EMAIL_HANDLER, {
                "order_id": invoice.order_id, "kind": "invoice",
                "extra": {"invoice_number": invoice.number,
                          "shipment_number": invoice.shipment_number,
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
        return render_pdf(CREDIT_NOTE_TEMPLATE, {
            "note": note, "invoice": note.invoice, "lines": list(note.lines.all()),
            "vat_reason_label": vat_reason_label(note.invoice.vat_reason)})


def credit_note_pdf_name(note: CreditNote) -> str:
    # No column records it: an issued credit note row cannot be updated
    # (billing_creditnote_immutable), and its number fixes the name.
    return f"credit_notes/{note.year}/{note.number}.pdf"


def send_credit_note(*, credit_note_id: int) -> str:
    """Render and store an issued credit note's PDF and queue its e-mail to
    the customer once. Plain `atomic()`: it runs in the outbox runner's
    transaction. Returns the storage path."""
    with transaction.atomic():
        # The lock serialises re-runs writing the same file (a lock, not an
        # UPDATE: the immutability trigger does not fire).
        note = (CreditNote.objects.select_for_update(of=("self",))
                .select_related("invoice", "customer").get(pk=credit_note_id))
        stored = _store(credit_note_pdf_name(note), credit_note_pdf_bytes(note))
        # What issue_credit_note did with the money: the part beyond what was
        # due on the invoice became customer credit, recorded against the note.
        to_credit = (CustomerCredit.objects.filter(credit_note=note)
                     .aggregate(total=Sum("amount"))["total"] or ZERO)
        outbox.enqueue(EMAIL_HANDLER, {
            "order_id": note.invoice.order_id, "kind": "credit_note", "reason": note.reason,
            "extra": {"credit_note_number": note.number,
                      "invoice_number": note.invoice.number,
                      "total": str(note.total_gross), "currency": note.currency,
                      "settled": str(note.total_gross - to_credit),
                      "customer_credit": str(to_credit)},
            "attachments": [{"path": stored, "filename": f"{note.number}.pdf",
                             "mimetype": "application/pdf"}]},
            dedup_key=f"billing:credit-note-email:{note.pk}")
    return stored
