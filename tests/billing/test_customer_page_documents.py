"""Invoices and credit notes downloaded from the customer's order page:
the order's own only, as PDF, through the token."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing import services
from billing.models import Invoice
from orders.links import live_link_token
from tests.billing.invoicing_support import reserved_order, ship, terms_customer

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fresh_shared_cache")]


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def invoiced(django_capture_on_commit_callbacks):
    def make() -> Invoice:
        order = reserved_order(customer=terms_customer())
        with django_capture_on_commit_callbacks(execute=True):
            ship(order)
        return Invoice.objects.get(order=order)

    return make


def test_the_customer_downloads_the_orders_invoice_and_credit_note(client, invoiced,
                                                                   django_capture_on_commit_callbacks):
    invoice = invoiced()
    with django_capture_on_commit_callbacks(execute=True):
        note = services.issue_credit_note(
            invoice_id=invoice.pk, actor=None, data=services.CreditNoteInput(
                reason="Damaged", lines=(services.CreditLineInput(
                    description="Refund", net=Decimal("5.00"), tax_rate=Decimal("20.00")),)))
    token = live_link_token(invoice.order)
    page = client.get(f"/o/{token}/").content.decode()
    invoice_url = f"/o/{token}/documents/invoice/{invoice.pk}.pdf"
    note_url = f"/o/{token}/documents/credit_note/{note.pk}.pdf"
    assert invoice_url in page and note_url in page
    response = client.get(invoice_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert invoice.number in _pdf_text(response.content)
    assert note.number in _pdf_text(client.get(note_url).content)


def test_another_orders_invoice_is_refused_through_the_token(client, invoiced):
    mine, theirs = invoiced(), invoiced()
    token = live_link_token(mine.order)
    for path in (f"/o/{token}/documents/invoice/{theirs.pk}.pdf",
                 f"/o/{token}/documents/nonsense/{mine.pk}.pdf",
                 f"/o/wrong/documents/invoice/{mine.pk}.pdf"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert theirs.number.encode() not in response.content



def test_the_page_shows_shipments_with_their_tracking_link(client, monkeypatch):
    from django.utils import timezone

    from orders import customer_documents
    from orders.customer_documents import CustomerShipment
    from tests.factories.orders import make_order

    order = make_order()
    parcel = CustomerShipment(number="SH-000042", status="Shipped", carrier="Parcelco",
                              tracking_number="PC123", tracking_url="https://track.example/PC123",
                              shipped_at=timezone.now(), delivered_at=None)
    monkeypatch.setattr(customer_documents, "_SHIPMENTS",
                        [lambda o: [parcel] if o.pk == order.pk else []])
    html = client.get(f"/o/{live_link_token(order)}/").content.decode()
    assert "SH-000042" in html and 'href="https://track.example/PC123"' in html
