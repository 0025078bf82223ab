"""Accounts receivable: aging buckets and per-customer totals from SQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import selectors, services
from tests.billing.invoicing_support import reserved_order, terms_customer

pytestmark = pytest.mark.django_db

# One order of 2 x 10.00 at 20 %: 24.00 gross per invoice.
GROSS = Decimal("24.00")


@pytest.fixture
def ledger():
    """Two customers with invoices in every bucket; one partly paid, one paid."""
    today = timezone.localdate()
    alice, bob = terms_customer(name="Alice"), terms_customer(name="Bob")

    def invoice(customer, days_overdue):
        order = reserved_order(customer=customer)
        issued = today - timedelta(days=30 + days_overdue)
        return services.issue_invoice(order_id=order.pk, actor=None, today=issued)

    made = {
        "current": invoice(alice, -5),
        "due_today": invoice(alice, 0),
        "d1_30": invoice(alice, 1),
        "d30": invoice(bob, 30),
        "d31_60": invoice(bob, 31),
        "d61_90": invoice(bob, 90),
        "d90_plus": invoice(bob, 91),
        "paid": invoice(alice, 100),
    }
    services.record_invoice_payment(
        invoice_id=made["paid"].pk, actor=None,
        data=services.InvoicePaymentInput(amount=GROSS, method="bank_transfer",
                                          received_on=today))
    services.record_invoice_payment(
        invoice_id=made["d31_60"].pk, actor=None,
        data=services.InvoicePaymentInput(amount=Decimal("4.00"), method="bank_transfer",
                                          received_on=today))
    return {"today": today, "alice": alice, "bob": bob, **made}


def test_aging_buckets_sum_what_is_outstanding(ledger, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        (row,) = selectors.aging_summary(today=ledger["today"])
    assert row["currency"] == "EUR"
    assert row["current"] == 2 * GROSS  # due in 5 days, due today
    assert row["d1_30"] == 2 * GROSS  # 1 and 30 days
    assert row["d31_60"] == GROSS - Decimal("4.00")  # partly paid
    assert row["d61_90"] == GROSS
    assert row["d90_plus"] == GROSS  # the paid one (100 days) is not there
    assert row["total"] == 7 * GROSS - Decimal("4.00")
    assert row["count"] == 7


def test_totals_per_customer_biggest_debt_first(ledger, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        page = selectors.receivables_by_customer(today=ledger["today"])
    bob, alice = page.object_list
    assert (bob["customer__name"], bob["invoices"], bob["total"]) == (
        "Bob", 4, 4 * GROSS - Decimal("4.00"))
    assert (bob["d1_30"], bob["d31_60"], bob["d61_90"], bob["d90_plus"]) == (
        GROSS, GROSS - Decimal("4.00"), GROSS, GROSS)
    assert (alice["customer__name"], alice["invoices"], alice["total"]) == (
        "Alice", 3, 3 * GROSS)
    assert (alice["current"], alice["d1_30"]) == (2 * GROSS, GROSS)


def test_open_invoices_show_days_overdue_most_overdue_first(ledger):
    page = selectors.open_invoices(today=ledger["today"])
    days = [invoice.overdue_days for invoice in page.object_list]
    assert days == [91, 90, 31, 30, 1, 0, 0]
    assert page.object_list[2].outstanding_amount == GROSS - Decimal("4.00")


def test_the_receivables_page_shows_buckets_and_customers(ledger, client_for):
    client = client_for("Accounting")
    response = client.get("/billing/receivables/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alice" in html and "Bob" in html
    assert ledger["d90_plus"].number in html
    assert "€24.00" in html


def test_the_open_invoices_paginate(ledger):
    first = selectors.open_invoices(today=ledger["today"], page=1, page_size=5)
    second = selectors.open_invoices(today=ledger["today"], page=2, page_size=5)
    assert first.has_next and not second.has_next
    assert len(first) + len(second) == 7
