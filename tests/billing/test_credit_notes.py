"""Credit notes: own gapless series, settle what is due, excess to credit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from billing import services
from billing.models import CreditNote, CustomerCredit, Invoice, InvoiceStatus
from oms.lib.errors import ApplicationError
from tests.billing.invoicing_support import reserved_order, ship

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(django_capture_on_commit_callbacks) -> Invoice:
    order = reserved_order()  # one line 2 x 10.00 at 20 %: gross 24.00
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    return Invoice.objects.get(order=order)


def _credit(invoice, net, *, rate="20.00", reason="Damaged in transit"):
    return services.issue_credit_note(
        invoice_id=invoice.pk, actor=None, data=services.CreditNoteInput(
            reason=reason, lines=(services.CreditLineInput(description="Refund", net=Decimal(net),
                                                           tax_rate=Decimal(rate)),)))


def test_a_credit_note_has_its_own_series_and_references_the_invoice(invoice):
    note = _credit(invoice, "5.00")
    year = timezone.localdate().year
    assert note.number == f"CN-{year}-000001"
    assert note.invoice == invoice
    assert (note.total_net, note.total_tax, note.total_gross) == (
        Decimal("5.00"), Decimal("1.00"), Decimal("6.00"))
    invoice.refresh_from_db()
    assert invoice.amount_credited == Decimal("6.00")
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert _credit(invoice, "1.00").number == f"CN-{year}-000002"


def test_crediting_the_whole_invoice_settles_it_and_the_order_is_paid(invoice):
    _credit(invoice, str(invoice.total_net))
    invoice.refresh_from_db()
    invoice.order.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.order.status == "paid"


def test_a_credit_on_a_paid_invoice_becomes_customer_credit(invoice):
    services.record_invoice_payment(
        invoice_id=invoice.pk, actor=None,
        data=services.InvoicePaymentInput(amount=invoice.total_gross, method="bank_transfer",
                                          received_on=timezone.localdate()))
    note = _credit(invoice, "5.00")
    credit = CustomerCredit.objects.get()
    assert (credit.amount, credit.credit_note) == (Decimal("6.00"), note)


def test_more_than_the_invoice_cannot_be_credited(invoice):
    with pytest.raises(ApplicationError) as caught:
        _credit(invoice, "20.01")
    assert "net" in caught.value.field_errors
    assert not CreditNote.objects.exists()


@pytest.mark.parametrize(("field", "kwargs"), [
    ("reason", {"reason": "  "}),
    ("net", {"net": "0"}),
    ("tax_rate", {"rate": "7.00"}),
])
def test_bad_credit_note_input_is_refused_and_writes_nothing(invoice, field, kwargs):
    with pytest.raises(ApplicationError) as caught:
        _credit(invoice, **{"net": "1.00", **kwargs})
    assert field in caught.value.field_errors
    assert not CreditNote.objects.exists()


def test_the_credit_note_pdf_names_the_invoice_reason_and_amounts(invoice, client_for):
    import io

    from django.urls import reverse
    from pypdf import PdfReader

    note = _credit(invoice, "5.00", reason="Scratched lid")
    client = client_for("Accounting")
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    url = reverse("billing:credit_note_pdf", args=[note.pk])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    for expected in [note.number, invoice.number, "Scratched lid", "€5.00", "€1.00", "€6.00",
                     invoice.seller["vat_id"]]:
        assert expected in text, expected
    assert client_for("Warehouse").get(url).status_code == 403
