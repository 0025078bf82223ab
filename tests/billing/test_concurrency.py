"""Races on real PostgreSQL: separate connections started together."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billing import services
from billing.models import OPEN_STATUSES, Payment
from oms.lib.errors import NotAllowed
from orders.models import Order
from tests.factories.billing import APPROVE, DECLINE, card
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order


def placed_order(monkeypatch, **kwargs) -> Order:
    """A placed order whose approval has not run yet (the approver is out for
    the placement; with transaction=True after-commit work runs for real)."""
    import orders.payments

    with monkeypatch.context() as patch:
        patch.setattr(orders.payments, "_approver", None)
        order = make_order(**kwargs)
    assert order.status == "placed"
    return order


def run_together(count: int, target) -> list[Exception]:
    barrier = threading.Barrier(count)
    errors: list[Exception] = []

    def worker(index: int):
        try:
            barrier.wait(timeout=10)
            target(index)
        except Exception as exc:  # collected and asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_approval_delivered_five_times_at_once_charges_and_decides_once(monkeypatch):
    order = placed_order(monkeypatch, customer=CustomerFactory(standing="trusted"))
    errors = run_together(5, lambda i: services.approve_order_payment(
        order_id=order.pk, payment=card(APPROVE), actor=None))
    assert errors == []
    order.refresh_from_db()
    assert order.status == "reserved"
    assert Payment.objects.filter(order=order).count() == 1
    assert order.events.filter(to_status="reserved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_approve_and_reject_racing_in_the_queue_one_wins(make_user, monkeypatch):
    order = placed_order(monkeypatch, customer=CustomerFactory(standing="new"))
    services.approve_order_payment(order_id=order.pk, payment=card(APPROVE), actor=None)
    sales, accounting = make_user("Sales"), make_user("Accounting")

    def decide(index: int):
        if index == 0:
            services.approve_held_order(order_id=order.pk, actor=sales, reason="ok")
        else:
            services.reject_held_order(order_id=order.pk, actor=accounting, reason="no")

    errors = run_together(2, decide)
    assert len(errors) == 1 and getattr(errors[0], "status", None) == 409
    order = Order.objects.get(pk=order.pk)
    assert order.status in ("reserved", "cancelled")
    assert order.events.filter(to_status__in=["reserved", "cancelled"]).count() == 1
    payment = Payment.objects.get(order=order)
    assert payment.status == ("authorised" if order.status == "reserved" else "voided")


@pytest.mark.django_db(transaction=True)
def test_two_card_retries_at_once_leave_at_most_one_open_authorisation(monkeypatch):
    order = placed_order(monkeypatch, customer=CustomerFactory(standing="new"))
    services.approve_order_payment(order_id=order.pk, payment=card(DECLINE), actor=None)
    assert Order.objects.get(pk=order.pk).hold_reason == "payment_declined"

    errors = run_together(2, lambda i: services.retry_card_payment(
        order_id=order.pk, card_number=APPROVE, attempt_key=f"{i}" * 32))
    assert len(errors) == 1 and isinstance(errors[0], NotAllowed)
    assert Payment.objects.filter(order=order, status__in=OPEN_STATUSES).count() == 1
    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.hold_reason) == ("on_hold", "new_customer")


@pytest.mark.django_db(transaction=True)
def test_the_same_form_key_at_once_records_one_payment_and_one_credit_note(make_user):
    from decimal import Decimal

    from django.utils import timezone

    from billing.models import CreditNote, Invoice, InvoicePayment
    from oms.lib.submissions import AlreadySubmitted, new_submission_key
    from tests.billing.invoicing_support import reserved_order, ship

    invoice = Invoice.objects.get(order=ship(reserved_order()))
    accountant = make_user("Accounting")
    payment = services.InvoicePaymentInput(amount=Decimal("5.00"), method="cash",
                                           received_on=timezone.localdate())
    payment_key, note_key = new_submission_key(), new_submission_key()

    errors = run_together(3, lambda i: services.record_invoice_payment(
        invoice_id=invoice.pk, data=payment, actor=accountant, submission_key=payment_key))
    errors += run_together(3, lambda i: services.issue_credit_note(
        invoice_id=invoice.pk, actor=accountant, submission_key=note_key,
        data=services.CreditNoteInput(reason="Damaged", lines=(services.CreditLineInput(
            description="Scratched", net=Decimal("1.00"), tax_rate=Decimal("20.00")),))))

    assert len(errors) == 4 and all(isinstance(e, AlreadySubmitted) for e in errors)
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1
    assert CreditNote.objects.filter(invoice=invoice).count() == 1
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.amount_credited) == (Decimal("5.00"), Decimal("1.20"))
