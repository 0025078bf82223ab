"""The Invoice and Payment state machines, the Order predicates billing asks,
the typed inputs' rules as the forms show them, and the row-lock helpers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from billing.forms import CreditNoteForm, InvoicePaymentForm
from billing.locks import lock_invoice
from billing.models import Invoice, InvoiceStatus, Payment, PaymentStatus
from oms.lib.errors import ApplicationError
from oms.lib.submissions import new_submission_key
from orders.models import HoldReason, Order, OrderStatus
from tests.factories.orders import make_order


def _payment(status: str, *, captured: str = "0") -> Payment:
    return Payment(status=status, amount=Decimal("10.00"), captured_amount=Decimal(captured))


def _invoice(gross: str = "24.00") -> Invoice:
    return Invoice(total_net=Decimal(gross), total_tax=Decimal("0"), total_gross=Decimal(gross))


def test_a_payment_status_changes_only_through_its_transitions():
    payment = _payment(PaymentStatus.AUTHORISED)
    with pytest.raises(AttributeError):
        payment.status = PaymentStatus.CAPTURED
    payment.capture(Decimal("10.00"))
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CAPTURED,
                                                         Decimal("10.00"))
    assert not can_proceed(payment.void)


def test_a_refund_leaves_the_payment_captured_until_all_is_paid_back():
    payment = _payment(PaymentStatus.CAPTURED, captured="10.00")
    payment.refund(Decimal("4.00"))
    assert payment.status == PaymentStatus.CAPTURED
    payment.refund(Decimal("6.00"))
    assert payment.status == PaymentStatus.REFUNDED
    with pytest.raises(TransitionNotAllowed):
        payment.refund(Decimal("1.00"))


@pytest.mark.parametrize("status", [PaymentStatus.DECLINED, PaymentStatus.VOIDED])
def test_a_closed_payment_cannot_be_captured_or_voided(status):
    payment = _payment(status)
    assert not can_proceed(payment.capture) and not can_proceed(payment.void)
    assert not payment.is_open


def test_money_received_moves_the_invoice_from_open_to_paid():
    invoice = _invoice()
    assert invoice.status == InvoiceStatus.OPEN
    invoice.receive_payment(Decimal("4.00"))
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID and not invoice.is_settled
    invoice.receive_credit(Decimal("20.00"))
    assert invoice.status == InvoiceStatus.PAID and invoice.is_settled
    invoice.receive_credit(Decimal("0"))  # a credit note on a paid invoice
    assert invoice.status == InvoiceStatus.PAID
    with pytest.raises(AttributeError):
        invoice.status = InvoiceStatus.OPEN


def test_order_predicates_answer_for_the_order_status():
    placed = Order(status=OrderStatus.PLACED)
    held = Order(status=OrderStatus.ON_HOLD, hold_reason=HoldReason.PAYMENT_DECLINED)
    assert placed.awaits_payment_approval and not placed.is_on_hold
    assert held.is_on_hold and not held.awaits_payment_approval
    assert held.is_held_for(HoldReason.PAYMENT_DECLINED)
    assert not held.is_held_for(HoldReason.PREPAYMENT_MISSING)


@pytest.mark.django_db
def test_order_filters_select_owing_waiting_and_closed_orders():
    draft, placed = make_order(draft=True), make_order()
    assert set(Order.objects.filter(Order.owing_q())) == {placed}
    assert not Order.objects.filter(Order.closed_q()).exists()
    waiting = Order.objects.filter(Order.awaiting_decision_q(
        placed_before=timezone.now() + timedelta(minutes=1)))
    assert set(waiting) == {placed}
    assert not Order.objects.filter(Order.awaiting_decision_q(
        placed_before=timezone.now() - timedelta(minutes=1))).exists()
    assert draft.status == OrderStatus.DRAFT


@pytest.mark.django_db
def test_an_unknown_invoice_cannot_be_locked():
    with pytest.raises(ApplicationError) as caught:
        lock_invoice(0)
    assert caught.value.code == "not_found"


def test_the_payment_form_shows_the_inputs_rules_on_its_fields():
    form = InvoicePaymentForm({"amount": "0", "method": "bank_transfer", "reference": "",
                               "received_on": timezone.localdate() + timedelta(days=1)})
    assert not form.is_valid()
    assert form.errors["amount"] == ["Enter an amount greater than zero."]
    assert form.errors["received_on"] == ["The date cannot be in the future."]


def test_a_valid_payment_form_builds_the_services_input():
    form = InvoicePaymentForm({"amount": "12.5", "method": "cash", "reference": " R-1 ",
                               "received_on": timezone.localdate(),
                               "submission_key": new_submission_key()})
    assert form.is_valid(), form.errors
    assert (form.input.amount, form.input.method, form.input.reference) == (
        Decimal("12.50"), "cash", "R-1")


def test_the_credit_note_form_builds_one_line_and_refuses_a_zero_amount():
    data = {"description": "Refund", "net": "0", "tax_rate": "20.00", "reason": "Damaged"}
    form = CreditNoteForm(data, rates=[Decimal("20.00")])
    assert not form.is_valid()
    assert form.errors["net"] == ["Enter an amount greater than zero."]
    form = CreditNoteForm({**data, "net": "5.00", "submission_key": new_submission_key()},
                          rates=[Decimal("20.00")])
    assert form.is_valid(), form.errors
    (line,) = form.input.lines
    assert (form.input.reason, line.net, line.tax_rate) == ("Damaged", Decimal("5.00"),
                                                          Decimal("20.00"))
