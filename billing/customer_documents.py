"""The order's issued invoices and credit notes on the customer's order page
(registered with `orders.customer_documents` by BillingConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from billing.models import CreditNote, Invoice
from billing.services.documents import credit_note_pdf_bytes, invoice_pdf_bytes
from orders.customer_documents import CustomerDocument, DocumentSource
from orders.models import Order


def _invoices(order: Order) -> list[CustomerDocument]:
    return [CustomerDocument("invoice", pk, _("Invoice %(number)s") % {"number": number},
                             f"{number}.pdf")
            for pk, number in Invoice.objects.filter(order=order, number__isnull=False)
            .order_by("id").values_list("pk", "number")]


def _invoice_pdf(order: Order, pk: int) -> bytes | None:
    invoice = (Invoice.objects.select_related("order", "customer")
               .filter(pk=pk, order=order, number__isnull=False).first())
    return invoice_pdf_bytes(invoice) if invoice else None


def _credit_notes(order: Order) -> list[CustomerDocument]:
    return [CustomerDocument("credit_note", pk,
                             _("Credit note %(number)s") % {"number": number}, f"{number}.pdf")
            for pk, number in CreditNote.objects.filter(invoice__order=order,
                                                        number__isnull=False)
            .order_by("id").values_list("pk", "number")]


def _credit_note_pdf(order: Order, pk: int) -> bytes | None:
    note = (CreditNote.objects.select_related("invoice__order", "customer")
            .filter(pk=pk, invoice__order=order, number__isnull=False).first())
    return credit_note_pdf_bytes(note) if note else None


SOURCES = (DocumentSource("invoice", _invoices, _invoice_pdf),
           DocumentSource("credit_note", _credit_notes, _credit_note_pdf))
