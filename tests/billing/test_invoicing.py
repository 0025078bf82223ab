"""Invoicing on shipment: capture, number, contents, immutability, idempotency."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from pypdf import PdfReader

from billing import services
from billing.models import Invoice, InvoiceLine, InvoiceStatus, Payment, PaymentStatus
from oms.models import OutboxMessage
from orders.models import EventKind, OrderEvent
from tests.billing.invoicing_support import reserved_order, ship, two_rate_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    """Ship an order and run everything the outbox queues after each commit."""

    def run(order):
        with django_capture_on_commit_callbacks(execute=True):
            ship(order)
        order.refresh_from_db()
        return order

    return run


def _pdf_text(path: str) -> str:
    with default_storage.open(path, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_shipping_an_order_on_terms_issues_an_open_invoice_and_marks_it_invoiced(shipped):
    order = shipped(reserved_order(lines=two_rate_lines()))

    invoice = Invoice.objects.get(order=order)
    year = timezone.localdate().year
    assert invoice.number == f"INV-{year}-000001"
    assert order.status == "invoiced"
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.due_date == invoice.issue_date + timedelta(days=30)
    assert "30 days" in invoice.payment_terms
    # Totals equal the order's: tax rounded once per rate.
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (
        order.total_net, order.total_tax, order.total_gross)
    rates = {r.rate: (r.net, r.tax) for r in invoice.tax_rates.all()}
    assert rates == {Decimal("5.50"): (Decimal("25.00"), Decimal("1.38")),
                     Decimal("20.00"): (Decimal("49.95"), Decimal("9.99"))}
    assert invoice.seller["vat_id"] and invoice.buyer["name"] == order.customer.name
    assert invoice.shipping_address == order.shipping_address
    assert OrderEvent.objects.filter(order=order, to_status="invoiced",
                                     data__invoice_number=invoice.number).exists()


def test_the_invoice_pdf_holds_number_every_line_tax_per_rate_and_totals(shipped):
    order = shipped(reserved_order(lines=two_rate_lines()))
    invoice = Invoice.objects.get(order=order)

    assert invoice.pdf_path
    text = _pdf_text(invoice.pdf_path)
    for expected in [invoice.number, order.number, "Garden handbook", "Desk lamp", "LED bulb",
                     "BOOK-1", "LAMP-1", "BULB-1",
                     "VAT 5.50 %", "VAT 20 %", "€25.00", "€1.38", "€49.95", "€9.99",
                     "€74.95", "€11.37", "€86.32",  # net, tax, gross totals
                     "€12.50", "€39.90", "€3.35",  # unit prices net of tax
                     invoice.seller["vat_id"], invoice.seller["name"], order.customer.name,
                     "IBAN", "SUPPLY DATE", "DUE DATE"]:
        assert expected in text, (expected, text)


def test_the_invoice_email_goes_out_once_with_the_pdf_attached(shipped):
    order = shipped(reserved_order(lines=two_rate_lines()))
    invoice = Invoice.objects.get(order=order)

    invoice_mails = [m for m in mail.outbox if "invoice" in m.subject.lower()]
    assert len(invoice_mails) == 1
    message = invoice_mails[0]
    assert message.to == [order.customer.email]
    (name, content, mimetype), = message.attachments
    assert (name, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    assert invoice.number in message.body
    assert OrderEvent.objects.filter(order=order, kind=EventKind.EMAIL,
                                     reason="invoice").count() == 1
    # Running the handlers again sends nothing more and issues nothing new.
    services.render_invoice_pdf(invoice_id=invoice.pk)
    assert services.invoice_shipped_order(order_id=order.pk).pk == invoice.pk
    assert OutboxMessage.objects.filter(handler="orders.send_order_email",
                                        payload__kind="invoice").count() == 1
    assert Invoice.objects.count() == 1


def test_a_card_order_is_captured_at_shipment_and_ends_paid(shipped):
    order = shipped(reserved_order(on_terms=False, lines=two_rate_lines()))
    invoice = Invoice.objects.get(order=order)
    payment = Payment.objects.get(order=order)

    assert payment.status == PaymentStatus.CAPTURED
    assert payment.captured_amount == order.total_gross
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.amount_paid == invoice.total_gross
    assert invoice.payments.get().payment == payment
    assert order.status == "paid"
    assert "Paid in full" in invoice.payment_terms


def test_a_repeated_shipped_event_captures_and_invoices_once(shipped):
    order = shipped(reserved_order(on_terms=False))
    services.invoice_shipped_order(order_id=order.pk)
    services.invoice_shipped_order(order_id=order.pk)
    assert Invoice.objects.filter(order=order).count() == 1
    assert Payment.objects.get(order=order).transactions.filter(kind="capture").count() == 1


def test_short_picked_units_are_not_invoiced(shipped):
    order = reserved_order(lines=two_rate_lines())
    from orders import services as order_services

    order_services.start_picking(order_id=order.pk, actor=None)
    book_line = order.lines.get(sku="BOOK-1")
    order_services.record_short_pick(order_id=order.pk, lines={book_line.pk: 1}, actor=None,
                                     reason="one copy damaged")
    order_services.mark_packed(order_id=order.pk, actor=None)
    order_services.mark_shipped(order_id=order.pk, actor=None)
    invoice = services.invoice_shipped_order(order_id=order.pk)
    line = invoice.lines.get(sku="BOOK-1")
    assert line.quantity == 1
    assert invoice.total_net == order.total_net - Decimal("12.50")


def test_an_order_that_is_not_shipped_is_not_invoiced():
    order = reserved_order()
    assert services.invoice_shipped_order(order_id=order.pk) is None
    assert not Invoice.objects.exists()


def test_an_issued_invoice_cannot_be_changed_or_deleted(shipped):
    order = shipped(reserved_order())
    invoice = Invoice.objects.get(order=order)

    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total_net=Decimal("1.00"),
                                                     total_gross=Decimal("1.00") +
                                                     invoice.total_tax)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(buyer={"name": "Someone else"})
    with pytest.raises(IntegrityError), transaction.atomic():
        invoice.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.filter(invoice=invoice).update(quantity=99)
    # Settlement fields may change (that is how payments are recorded).
    Invoice.objects.filter(pk=invoice.pk).update(pdf_path="elsewhere.pdf")


def test_a_prepaid_bank_transfer_order_is_invoiced_as_paid(place, shipped, manager):
    from tests.factories.billing import bank_transfer
    from tests.factories.customers import CustomerFactory

    order = place(customer=CustomerFactory(standing="trusted",
                                           payment_preference="bank_transfer"),
                  payment=bank_transfer())
    payment = Payment.objects.get(order=order)
    services.record_payment_received(payment_id=payment.pk, actor=manager)
    order = shipped(order)

    invoice = Invoice.objects.get(order=order)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.payments.get().payment == payment
    assert order.status == "paid"
    assert order.events.filter(to_status="paid").exists()


def test_issuing_twice_returns_the_same_invoice_and_queues_its_pdf_once():
    order = reserved_order()
    invoice = services.issue_invoice(order_id=order.pk, actor=None)
    assert services.issue_invoice(order_id=order.pk, actor=None).pk == invoice.pk
    assert invoice.sequence == 1
    assert OutboxMessage.objects.filter(handler="billing.render_invoice_pdf",
                                        payload__invoice_id=invoice.pk).count() == 1


def test_a_french_customers_invoice_is_written_in_french(shipped):
    from tests.billing.invoicing_support import terms_customer

    order = shipped(reserved_order(customer=terms_customer(preferred_language="fr")))
    invoice = Invoice.objects.get(order=order)
    assert invoice.payment_terms == "Payable sous 30 jours à compter de la date de facture."
    text = _pdf_text(invoice.pdf_path)
    assert "DATE DE LIVRAISON" in text and "Base imposable" in text
    assert invoice.payment_terms in text
