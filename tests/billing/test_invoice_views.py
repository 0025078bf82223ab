"""Accounting's pages: invoice list and detail, PDF download, record payment
and credit note forms (bad input writes nothing), permissions, menu."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing.models import CreditNote, Invoice, InvoicePayment
from oms.lib.submissions import new_submission_key
from tests.billing.invoicing_support import reserved_order, ship

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(django_capture_on_commit_callbacks) -> Invoice:
    order = reserved_order()  # gross 24.00 on 30-day terms
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    return Invoice.objects.get(order=order)


def test_accounting_sees_the_invoice_list_and_filters_it(invoice, client_for):
    client = client_for("Accounting")
    response = client.get(reverse("billing:invoice_list"))
    assert response.status_code == 200
    assert invoice.number in response.content.decode()
    response = client.get(reverse("billing:invoice_list"), {"status": "paid"})
    assert invoice.number not in response.content.decode()
    response = client.get(reverse("billing:invoice_list"), {"q": invoice.order.number},
                          headers={"HX-Request": "true", "HX-Target": "invoice-results"})
    assert invoice.number in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_warehouse_may_not_open_invoices(invoice, client_for):
    client = client_for("Warehouse")
    assert client.get(reverse("billing:invoice_list")).status_code == 403
    assert client.get(reverse("billing:invoice_pdf", args=[invoice.pk])).status_code == 403


def test_the_detail_page_shows_lines_taxes_and_the_forms(invoice, client_for):
    response = client_for("Accounting").get(reverse("billing:invoice_detail",
                                                    args=[invoice.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert invoice.lines.get().sku in html
    assert "VAT 20 %" in html and "€24.00" in html
    assert 'data-action="record-payment"' in html
    assert reverse("billing:credit_note", args=[invoice.pk]) in html


def test_the_pdf_downloads_from_the_invoice_and_order_pages(invoice, client_for):
    client = client_for("Accounting")
    url = reverse("billing:invoice_pdf", args=[invoice.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    order_page = client.get(reverse("orders:detail", args=[invoice.order_id]))
    assert url in order_page.content.decode()


def test_a_pdf_not_stored_yet_is_rendered_on_demand(invoice, client_for):
    Invoice.objects.filter(pk=invoice.pk).update(pdf_path="")
    response = client_for("Accounting").get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert invoice.number in text


def test_recording_a_payment_redirects_with_a_message(invoice, client_for):
    client = client_for("Accounting")
    response = client.post(reverse("billing:record_payment", args=[invoice.pk]), {
        "amount": "10.00", "method": "bank_transfer",
        "received_on": timezone.localdate().isoformat(), "reference": "STMT-42",
        "submission_key": new_submission_key()})
    assert response.status_code == 302
    payment = InvoicePayment.objects.get()
    assert (payment.amount, payment.reference, payment.actor) == (
        Decimal("10.00"), "STMT-42", client.user)


@pytest.mark.parametrize(("field", "data"), [
    ("amount", {"amount": ""}),
    ("amount", {"amount": "-5"}),
    ("amount", {"amount": "ten"}),
    ("method", {"method": "barter"}),
    ("received_on", {"received_on": "not a date"}),
    ("received_on", {"received_on": (timezone.localdate() + timedelta(days=2)).isoformat()}),
    ("reference", {"reference": "x" * 101}),
])
def test_bad_payment_input_shows_field_errors_and_writes_nothing(invoice, client_for, field,
                                                                 data):
    client = client_for("Accounting")
    response = client.post(reverse("billing:record_payment", args=[invoice.pk]), {
        "amount": "10.00", "method": "bank_transfer",
        "received_on": timezone.localdate().isoformat(), "reference": "",
        "submission_key": new_submission_key(), **data})
    assert response.status_code == 400
    assert field in response.context["payment_form"].errors
    assert 'class="form-errors"' in response.content.decode()
    assert not InvoicePayment.objects.exists()


def test_a_bad_payment_over_htmx_answers_the_form_partial(invoice, client_for):
    response = client_for("Accounting").post(
        reverse("billing:record_payment", args=[invoice.pk]), {"amount": ""},
        headers={"HX-Request": "true"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="payment-form"' in html and "<html" not in html


def test_customer_service_may_view_but_not_record_payments(invoice, client_for):
    client = client_for("Customer service")
    assert client.get(reverse("billing:invoice_detail", args=[invoice.pk])).status_code == 200
    response = client.post(reverse("billing:record_payment", args=[invoice.pk]),
                           {"amount": "1.00"})
    assert response.status_code == 403
    assert client.get(reverse("billing:credit_note", args=[invoice.pk])).status_code == 403


def test_the_credit_note_form_issues_a_credit_note(invoice, client_for):
    client = client_for("Accounting")
    url = reverse("billing:credit_note", args=[invoice.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"description": "Scratched", "net": "5.00",
                                 "tax_rate": "20.00", "reason": "Damaged in transit",
                                 "submission_key": new_submission_key()})
    assert response.status_code == 302
    note = CreditNote.objects.get()
    assert note.total_gross == Decimal("6.00") and note.issued_by == client.user


@pytest.mark.parametrize(("field", "data"), [
    ("description", {"description": ""}),
    ("net", {"net": "0"}),
    ("net", {"net": "500.00"}),  # more than the invoice
    ("tax_rate", {"tax_rate": "7.00"}),
    ("reason", {"reason": ""}),
])
def test_bad_credit_note_input_shows_field_errors_and_writes_nothing(invoice, client_for,
                                                                     field, data):
    response = client_for("Accounting").post(
        reverse("billing:credit_note", args=[invoice.pk]),
        {"description": "Scratched", "net": "5.00", "tax_rate": "20.00",
         "reason": "Damaged", "submission_key": new_submission_key(), **data})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not CreditNote.objects.exists()


def test_accounting_has_invoices_and_receivables_in_the_menu(client_for):
    html = client_for("Accounting").get(reverse("billing:invoice_list")).content.decode()
    assert reverse("billing:receivables") in html
    assert reverse("billing:invoice_list") in html


def test_list_pages_run_the_same_queries_for_few_and_many_invoices(client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing import services

    client = client_for("Accounting")
    past = timezone.localdate() - timedelta(days=60)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def add_invoices(count: int) -> None:
        for _ in range(count):
            services.issue_invoice(order_id=reserved_order().pk, actor=None, today=past)

    add_invoices(2)
    few = [queries(reverse("billing:invoice_list")), queries(reverse("billing:receivables"))]
    add_invoices(5)
    many = [queries(reverse("billing:invoice_list")), queries(reverse("billing:receivables"))]
    assert few == many  # no query per row


def test_the_apply_credit_button_uses_the_customers_credit(invoice, client_for):
    from billing import services

    services.record_invoice_payment(
        invoice_id=invoice.pk, actor=None,
        data=services.InvoicePaymentInput(amount=Decimal("30.00"), method="cash",
                                          received_on=timezone.localdate()))
    order = reserved_order(customer=invoice.customer)
    second = services.issue_invoice(order_id=order.pk, actor=None)
    client = client_for("Accounting")
    page = client.get(reverse("billing:invoice_detail", args=[second.pk])).content.decode()
    assert 'data-action="apply-credit"' in page
    response = client.post(reverse("billing:apply_credit", args=[second.pk]),
                           {"submission_key": new_submission_key()})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.amount_paid == Decimal("6.00")
    # Nothing left: a second press (a freshly rendered button) answers 409 with the reason.
    response = client.post(reverse("billing:apply_credit", args=[second.pk]),
                           {"submission_key": new_submission_key()})
    assert response.status_code == 409
