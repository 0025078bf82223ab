"""Payments against invoices: partial, full, over (customer credit), the order
becoming paid, and the payment_received e-mail."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from billing import selectors, services
from billing.models import CustomerCredit, Invoice, InvoiceStatus
from oms.lib.errors import ApplicationError, NotAllowed
from tests.billing.invoicing_support import reserved_order, ship

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoiced(django_capture_on_commit_callbacks):
    """An order on 30-day terms, shipped and invoiced (open invoice)."""

    def make(**kwargs) -> Invoice:
        order = reserved_order(**kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            ship(order)
        return Invoice.objects.get(order=order)

    return make


def _pay(invoice, amount, *, actor=None, capture=None, **extra):
    kwargs = {"amount": Decimal(amount), "method": "bank_transfer",
              "received_on": timezone.localdate(), "reference": "STMT-1"}
    kwargs.update(extra)
    record = services.record_invoice_payment(
        invoice_id=invoice.pk, data=services.InvoicePaymentInput(**kwargs), actor=actor)
    invoice.refresh_from_db()
    return record


def test_a_partial_payment_leaves_the_invoice_partially_paid(invoiced, make_user):
    invoice = invoiced()
    accountant = make_user("Accounting")
    _pay(invoice, "5.00", actor=accountant)
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert invoice.amount_paid == Decimal("5.00")
    assert invoice.outstanding == invoice.total_gross - Decimal("5.00")
    assert invoice.order.status == "invoiced"
    assert invoice.payments.get().actor == accountant
    note = invoice.order.events.get(kind="payment")
    assert "€5.00" in note.summary and invoice.number in note.summary
    assert note.actor == accountant


def test_paying_the_rest_settles_the_invoice_and_the_order_becomes_paid(invoiced):
    invoice = invoiced()
    _pay(invoice, "5.00")
    _pay(invoice, str(invoice.outstanding))
    assert invoice.status == InvoiceStatus.PAID
    invoice.order.refresh_from_db()
    assert invoice.order.status == "paid"
    assert not CustomerCredit.objects.exists()


def test_an_overpayment_settles_the_invoice_and_keeps_the_rest_as_customer_credit(invoiced):
    invoice = invoiced()
    record = _pay(invoice, str(invoice.total_gross + Decimal("7.50")))
    assert invoice.status == InvoiceStatus.PAID
    assert record.applied == invoice.total_gross
    credit = CustomerCredit.objects.get()
    assert (credit.amount, credit.customer_id, credit.invoice_payment) == (
        Decimal("7.50"), invoice.customer_id, record)
    assert selectors.customer_credit_balance(customer_id=invoice.customer_id) == Decimal("7.50")


def test_a_payment_on_a_settled_invoice_is_refused(invoiced):
    invoice = invoiced()
    _pay(invoice, str(invoice.total_gross))
    with pytest.raises(NotAllowed):
        _pay(invoice, "1.00")
    assert invoice.payments.count() == 1


@pytest.mark.parametrize(("field", "kwargs"), [
    ("amount", {"amount": Decimal("0")}),
    ("amount", {"amount": Decimal("-3")}),
    ("amount", {"amount": "abc"}),
    ("method", {"method": "cash-in-a-sock"}),
    ("received_on", {"received_on": timezone.localdate() + timedelta(days=1)}),
    ("reference", {"reference": "x" * 101}),
])
def test_bad_payment_input_is_refused_with_a_field_error_and_writes_nothing(invoiced, field,
                                                                            kwargs):
    invoice = invoiced()
    with pytest.raises(ApplicationError) as caught:
        services.record_invoice_payment(invoice_id=invoice.pk, actor=None,
                                        data=services.InvoicePaymentInput(**{
            "amount": Decimal("1.00"), "method": "bank_transfer",
            "received_on": timezone.localdate(), "reference": "", **kwargs}))
    assert field in caught.value.field_errors
    assert not invoice.payments.exists()


def test_the_customer_is_told_a_payment_arrived(invoiced, django_capture_on_commit_callbacks):
    invoice = invoiced()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _pay(invoice, "5.00")
    (message,) = mail.outbox
    assert message.subject == f"Payment received for order {invoice.order.number}"
    assert invoice.number in message.body and "€5.00" in message.body
    assert message.alternatives  # an HTML part too


def test_customer_credit_pays_the_next_invoice_and_is_used_up(invoiced):
    first = invoiced()
    _pay(first, str(first.total_gross + Decimal("10.00")))  # 10.00 over
    second = invoiced(customer=first.customer)

    record = services.apply_customer_credit(invoice_id=second.pk, actor=None)
    second.refresh_from_db()
    assert (record.amount, record.method) == (Decimal("10.00"), "customer_credit")
    assert second.status == InvoiceStatus.PARTIALLY_PAID
    assert selectors.customer_credit_balance(customer_id=first.customer_id) == Decimal("0.00")
    with pytest.raises(NotAllowed):
        services.apply_customer_credit(invoice_id=second.pk, actor=None)


def test_credit_larger_than_the_invoice_settles_it_and_keeps_the_rest(invoiced):
    first = invoiced()
    _pay(first, str(first.total_gross + Decimal("30.00")))
    second = invoiced(customer=first.customer)  # 24.00
    services.apply_customer_credit(invoice_id=second.pk, actor=None)
    second.refresh_from_db()
    second.order.refresh_from_db()
    assert second.status == InvoiceStatus.PAID and second.order.status == "paid"
    assert selectors.customer_credit_balance(customer_id=first.customer_id) == Decimal("6.00")


def test_customer_credit_cannot_be_typed_in_as_a_payment_method(invoiced):
    invoice = invoiced()
    with pytest.raises(ApplicationError) as caught:
        _pay(invoice, "5.00", method="customer_credit")
    assert "method" in caught.value.field_errors
