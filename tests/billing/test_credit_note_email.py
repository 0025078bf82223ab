"""The credit note e-mail: issued in one transaction, rendered, stored and
sent once after commit with its PDF, in the customer's language."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.utils import timezone
from pypdf import PdfReader

from billing import services
from billing.models import CreditNote, Invoice
from oms.lib import outbox
from oms.models import OutboxMessage
from orders.emails import send_customer_email
from orders.models import EventKind, OrderEvent
from tests.billing.invoicing_support import reserved_order, ship, terms_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice_for(django_capture_on_commit_callbacks):
    """An open invoice of 2 x 10.00 at 20 % (gross 24.00), its e-mail sent."""

    def make(**customer) -> Invoice:
        order = reserved_order(customer=terms_customer(**customer))
        with django_capture_on_commit_callbacks(execute=True):
            ship(order)
        return Invoice.objects.get(order=order)

    return make


@pytest.fixture
def credit(django_capture_on_commit_callbacks):
    """Issue a credit note and run what its commit queues."""

    def issue(invoice: Invoice, net: str, *, reason: str = "Damaged in transit") -> CreditNote:
        with django_capture_on_commit_callbacks(execute=True):
            return services.issue_credit_note(
                invoice_id=invoice.pk, actor=None, data=services.CreditNoteInput(
                    reason=reason, lines=(services.CreditLineInput(
                        description="Refund", net=Decimal(net), tax_rate=Decimal("20.00")),)))

    return issue


def _credit_note_mails() -> list:
    return [m for m in mail.outbox if m.attachments and m.attachments[0][0].startswith("CN-")]


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_issuing_a_credit_note_emails_the_customer_once_with_the_pdf(invoice_for, credit):
    invoice = invoice_for()
    order = invoice.order
    note = credit(invoice, "5.00", reason="Scratched lid")

    message, = _credit_note_mails()
    assert message.to == [order.customer.email]
    assert message.subject == f"A credit note for your order {order.number}"
    html, = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    for part in (message.body, html):
        assert f"credit note {note.number}" in part
        assert f"invoice {invoice.number}" in part
        assert "€6.00" in part and "Scratched lid" in part
        # The invoice was open: the credit comes off what is due on it.
        assert "is deducted from what was still due" in part
        assert "credit on your account" not in part
    (name, content, mimetype), = message.attachments
    assert (name, mimetype) == (f"{note.number}.pdf", "application/pdf")
    text = _pdf_text(content)
    assert note.number in text and invoice.number in text and "€6.00" in text
    # The stored file is the one attached, under the note's own name.
    path = services.credit_note_pdf_name(note)
    assert path == f"credit_notes/{note.year}/{note.number}.pdf"
    with default_storage.open(path, "rb") as handle:
        assert handle.read() == content
    event = OrderEvent.objects.get(order=order, kind=EventKind.EMAIL, reason="credit_note")
    assert event.data["to"] == order.customer.email
    assert event.data["attachments"] == [f"{note.number}.pdf"]


def test_running_the_outbox_again_sends_nothing_more(invoice_for, credit):
    invoice = invoice_for()
    note = credit(invoice, "5.00")
    rows = [OutboxMessage.objects.get(handler=services.CREDIT_NOTE_HANDLER,
                                      dedup_key=f"billing:credit-note:{note.pk}"),
            OutboxMessage.objects.get(handler="orders.send_order_email",
                                      dedup_key=f"billing:credit-note-email:{note.pk}")]
    assert [row.status for row in rows] == [OutboxMessage.Status.DONE] * 2

    # The runner skips done rows; a handler re-run (a crash before its row
    # was marked done) re-stores the file but queues no second e-mail, and
    # the e-mail handler sees its row was sent already.
    assert not any(outbox.run_message(row.pk) for row in rows)
    services.send_credit_note(credit_note_id=note.pk)
    assert not send_customer_email(order_id=invoice.order_id, kind="credit_note",
                                   outbox_message_id=rows[1].pk)
    outbox.relay()

    assert len(_credit_note_mails()) == 1
    assert OutboxMessage.objects.filter(handler=services.CREDIT_NOTE_HANDLER).count() == 1
    assert OutboxMessage.objects.filter(payload__kind="credit_note").count() == 1
    assert OrderEvent.objects.filter(kind=EventKind.EMAIL, reason="credit_note").count() == 1


def test_a_french_customer_gets_the_credit_note_email_in_french(invoice_for, credit):
    invoice = invoice_for(preferred_language="fr")
    note = credit(invoice, "5.00", reason="Couvercle rayé")

    message, = _credit_note_mails()
    assert message.subject == f"Un avoir pour votre commande {invoice.order.number}"
    assert f"l'avoir {note.number}, qui corrige la facture {invoice.number}" in message.body
    assert "Montant crédité: 6,00\xa0€" in message.body
    assert "Motif: Couvercle rayé" in message.body
    assert f"6,00\xa0€ est déduit de ce qui restait dû sur la facture {invoice.number}" \
        in message.body
    assert "Hello" not in message.body


def test_a_credit_on_a_paid_invoice_tells_the_customer_it_is_kept_as_credit(invoice_for,
                                                                           credit):
    invoice = invoice_for()
    services.record_invoice_payment(
        invoice_id=invoice.pk, actor=None,
        data=services.InvoicePaymentInput(amount=invoice.total_gross, method="bank_transfer",
                                          received_on=timezone.localdate()))
    credit(invoice, "5.00")

    message, = _credit_note_mails()
    assert ("€6.00 had already been paid: we keep it as credit on your account"
            in message.body)
    assert "deducted" not in message.body


def test_a_rolled_back_issue_sends_nothing(invoice_for, credit):
    invoice = invoice_for()
    year = timezone.localdate().year
    # A note numbered outside the counter: the issue takes the same number,
    # the unique constraint refuses it, and the whole issue rolls back.
    CreditNote.objects.create(
        series="CN", year=year, sequence=1, number=f"CN-{year}-000001", invoice=invoice,
        customer_id=invoice.customer_id, issue_date=timezone.localdate(), reason="planted",
        currency=invoice.currency, total_net=Decimal("1.00"), total_tax=Decimal("0.00"),
        total_gross=Decimal("1.00"))

    with pytest.raises(IntegrityError):
        credit(invoice, "5.00")
    outbox.relay()

    assert CreditNote.objects.count() == 1
    assert not OutboxMessage.objects.filter(handler=services.CREDIT_NOTE_HANDLER).exists()
    assert not OutboxMessage.objects.filter(payload__kind="credit_note").exists()
    assert _credit_note_mails() == []
