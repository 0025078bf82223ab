"""Every customer e-mail, reviewed together: sent through the outbox, HTML and
plain text, in the customer's language, recorded on the order timeline, and
sent once per outbox row however often the row runs.

The first test walks every kind in orders.emails.CUSTOMER_EMAILS (a kind
added later is checked without touching this file); the others drive the
real services of order-to-cash for a French customer.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation

from oms.lib import outbox
from oms.models import OutboxMessage
from orders import payments
from orders.emails import CUSTOMER_EMAILS, send_order_email
from orders.models import EventKind, HoldReason, OrderEvent
from orders.services import hold_order
from tests.factories.billing import DECLINE, card
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db(transaction=True)

# What each kind's producer puts in the payload (see fulfillment and billing).
EXTRAS = {
    "shipped": {"shipment": "SH-1", "carrier": "Colissimo", "service": "Express",
                "transit_days": 2, "tracking_number": "TRK123456FR",
                "tracking_url": "https://track.example/TRK123456FR"},
    "invoice": {"invoice_number": "INV-2026-000042", "total": "24.00", "outstanding": "24.00",
                "currency": "EUR", "due_date": "2026-12-31", "paid": False},
    "payment_received": {"invoice_number": "INV-2026-000042", "amount": "24.00",
                         "applied": "24.00", "credit": "0.00", "outstanding": "0.00",
                         "currency": "EUR", "received_on": "2026-11-20"},
    "overdue_reminder": {"invoice_number": "INV-2026-000042", "level": 1, "days_overdue": 8,
                         "due_date": "2026-11-14", "outstanding": "24.00", "currency": "EUR",
                         "total": "24.00"},
    "payment_link": {"link": "https://oms.example/billing/pay/abc/", "hours": 48},
    "credit_note": {"credit_note_number": "CN-2026-000007", "invoice_number": "INV-2026-000042",
                    "total": "6.00", "currency": "EUR", "settled": "6.00",
                    "customer_credit": "0.00"},
}
# The word every French e-mail signs with (templates/emails/orders/_base.html
# and each .txt): "Kind regards," in French.
FRENCH_SIGNATURE = "Cordialement"


@pytest.fixture
def french_order():
    # tests/reporting/conftest.py removes billing's approver: the order stays
    # placed and only the e-mail under test is sent.
    return make_order(customer=CustomerFactory(preferred_language="fr"))


def _enqueue(order, kind: str, **payload) -> OutboxMessage:
    with transaction.atomic():  # dispatched (and run, tasks are eager) on commit
        return outbox.enqueue("orders.send_order_email",
                              {"order_id": order.pk, "kind": kind, **payload},
                              dedup_key=f"test:{order.pk}:{kind}")


def _assert_french_with_both_parts(message, order, kind: str) -> str:
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert order.number in message.subject
    assert FRENCH_SIGNATURE in message.body and FRENCH_SIGNATURE in html
    with translation.override("fr"):
        french_subject = CUSTOMER_EMAILS[kind](order)
    with translation.override("en"):
        english_subject = CUSTOMER_EMAILS[kind](order)
    assert message.subject == french_subject != english_subject, \
        f"the subject of {kind!r} has no French translation"
    assert message.to == [order.customer.email]
    return html


@pytest.mark.parametrize("kind", sorted(CUSTOMER_EMAILS))
def test_every_customer_email_is_french_html_and_text_logged_and_sent_once(
        kind, french_order, mailoutbox):
    order = french_order
    mailoutbox.clear()
    attachments = []
    if kind == "invoice":
        path = default_storage.save("invoices/test.pdf", ContentFile(b"%PDF-1.4 test"))
        attachments = [{"path": path, "filename": "INV-2026-000042.pdf",
                        "mimetype": "application/pdf"}]

    row = _enqueue(order, kind, reason="", extra=EXTRAS.get(kind, {}),
                   attachments=attachments)

    [message] = mailoutbox
    html = _assert_french_with_both_parts(message, order, kind)
    for value in ("tracking_number", "carrier", "invoice_number", "link"):
        if value in EXTRAS.get(kind, {}):
            assert str(EXTRAS[kind][value]) in message.body
            assert str(EXTRAS[kind][value]) in html
    if kind == "invoice":
        assert [(name, mimetype) for name, _content, mimetype in message.attachments] == [
            ("INV-2026-000042.pdf", "application/pdf")]
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.DONE
    event = OrderEvent.objects.get(order=order, kind=EventKind.EMAIL,
                                   data__outbox_message_id=row.pk)
    assert (event.reason, event.data["to"]) == (kind, order.customer.email)

    # The relay runs the row again, or a worker crashed after SMTP: no new mail.
    assert outbox.run_message(row.pk) is False
    send_order_email({**row.payload, "outbox_message_id": row.pk})
    assert len(mailoutbox) == 1
    assert OrderEvent.objects.filter(order=order, kind=EventKind.EMAIL,
                                     data__outbox_message_id=row.pk).count() == 1


def test_the_order_received_email_is_french_and_on_the_timeline(mailoutbox):
    order = make_order(customer=CustomerFactory(preferred_language="fr"))
    received = [m for m in mailoutbox if m.to == [order.customer.email]]
    assert len(received) == 1
    _assert_french_with_both_parts(received[0], order, "received")
    assert order.events.filter(kind=EventKind.EMAIL, reason="received").count() == 1


@pytest.mark.parametrize("reason, needed", [
    (HoldReason.CREDIT_LIMIT, "limite de crédit"),
    (HoldReason.PREPAYMENT_MISSING, "virement"),
    (HoldReason.NEW_CUSTOMER, "première commande"),
])
def test_an_order_on_hold_tells_the_customer_what_is_needed(french_order, mailoutbox, reason,
                                                            needed):
    mailoutbox.clear()
    hold_order(order_id=french_order.pk, reason_code=reason, actor=None)
    [message] = [m for m in mailoutbox if m.to == [french_order.customer.email]]
    french_order.refresh_from_db()
    html = _assert_french_with_both_parts(message, french_order, "on_hold")
    assert needed in message.body and needed in html
    assert french_order.events.filter(kind=EventKind.EMAIL, reason="on_hold").count() == 1


def test_a_declined_card_sends_one_french_payment_link_and_no_hold_letter(mailoutbox,
                                                                         monkeypatch):
    from billing.services import run_payment_approval

    monkeypatch.setattr(payments, "_approver", run_payment_approval)  # the real decision
    customer = CustomerFactory(preferred_language="fr", standing="trusted")
    order = make_order(customer=customer, payment=card(DECLINE))
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == ("on_hold", "payment_declined")
    to_customer = [m for m in mailoutbox if m.to == [customer.email]]
    kinds = list(order.events.filter(kind=EventKind.EMAIL).values_list("reason", flat=True))
    assert sorted(kinds) == ["payment_link", "received"]
    assert len(to_customer) == 2
    link_mail = next(m for m in to_customer if "/billing/pay/" in m.body)
    html = _assert_french_with_both_parts(link_mail, order, "payment_link")
    assert "/billing/pay/" in html

    row = OutboxMessage.objects.get(handler="billing.card_retry_email")
    from billing.emails import send_card_retry_email

    send_card_retry_email({**row.payload, "outbox_message_id": row.pk})
    assert len([m for m in mailoutbox if m.to == [customer.email]]) == 2


def test_invoice_with_pdf_and_payment_received_follow_the_real_services(mailoutbox):
    from billing.models import Invoice
    from billing.services import InvoicePaymentInput, record_invoice_payment
    from tests.billing.invoicing_support import reserved_order, ship, terms_customer

    order = reserved_order(on_terms=True, customer=terms_customer(preferred_language="fr"))
    mailoutbox.clear()
    ship(order)  # billing invoices on order.shipped, renders the PDF, then mails it
    invoice = Invoice.objects.get(order=order)
    [invoice_mail] = [m for m in mailoutbox if m.to == [order.customer.email]]
    _assert_french_with_both_parts(invoice_mail, order, "invoice")
    assert [name for name, _content, _type in invoice_mail.attachments] == [
        f"{invoice.number}.pdf"]
    assert invoice_mail.attachments[0][1][:4] == b"%PDF"

    mailoutbox.clear()
    record_invoice_payment(
        invoice_id=invoice.pk, actor=None,
        data=InvoicePaymentInput(amount=invoice.total_gross, method="bank_transfer",
                                 received_on=timezone.localdate(), reference="VIR-1"))
    [paid_mail] = [m for m in mailoutbox if m.to == [order.customer.email]]
    _assert_french_with_both_parts(paid_mail, order, "payment_received")
    order.refresh_from_db()
    assert order.status == "paid"
    kinds = set(order.events.filter(kind=EventKind.EMAIL).values_list("reason", flat=True))
    assert {"received", "confirmed", "invoice", "payment_received"} <= kinds
    assert invoice.total_gross > Decimal("0")


def test_the_order_timeline_shows_each_email_subject_recipient_and_attachment(
        french_order, client_for, tmp_path):
    path = default_storage.save("invoices/t.pdf", ContentFile(b"%PDF-1.4 test"))
    _enqueue(french_order, "invoice", extra=EXTRAS["invoice"],
             attachments=[{"path": path, "filename": "INV-2026-000042.pdf"}])

    html = client_for("Sales").get(f"/orders/{french_order.pk}/").content.decode()

    with translation.override("fr"):
        subject = CUSTOMER_EMAILS["invoice"](french_order)
    assert subject in html
    assert f"→ {french_order.customer.email}" in html
    assert "INV-2026-000042.pdf" in html
