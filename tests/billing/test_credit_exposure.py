"""The credit check: open orders plus unpaid invoice balances plus this
order, in the currency of the credit limit (billing.services.exposure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import services
from billing.models import Invoice
from billing.services import approve_order_payment
from customers.models import Customer
from oms.models import ExchangeRate
from orders.models import OrderEvent
from tests.billing.invoicing_support import reserved_order, ship
from tests.factories.billing import net_terms
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer() -> Customer:
    return CustomerFactory(payment_preference="net_terms", payment_terms_days=30,
                           credit_limit=Decimal("100000.00"), credit_limit_currency="EUR")


@pytest.fixture
def owing(customer, django_capture_on_commit_callbacks) -> dict:
    """An invoice of 60.00 EUR with 20.00 paid (40.00 still due) and an open,
    not yet invoiced order of 12.00 EUR, both on account."""
    big = stocked_product(unit_price=Decimal("50.00"))
    small = stocked_product(unit_price=Decimal("10.00"))
    shipped = reserved_order(customer=customer, lines=[(big, 1)])
    with django_capture_on_commit_callbacks(execute=True):
        ship(shipped)
    invoice = Invoice.objects.get(order=shipped)
    services.record_invoice_payment(invoice_id=invoice.pk, actor=None,
                                    data=services.InvoicePaymentInput(
                                        amount=Decimal("20.00"), method="bank_transfer",
                                        received_on=timezone.localdate()))
    invoice.refresh_from_db()
    assert invoice.status == "partially_paid" and invoice.outstanding == Decimal("40.00")
    open_order = reserved_order(customer=customer, lines=[(small, 1)])
    assert open_order.total_gross == Decimal("12.00")
    return {"product": big}


def decide_new_order(customer: Customer, *, currency: str, product, limit: str):
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal(limit))
    order = make_order(customer=Customer.objects.get(pk=customer.pk), lines=[(product, 1)],
                       currency=currency, payment=net_terms())
    approve_order_payment(order_id=order.pk, payment=net_terms(), actor=None)
    order.refresh_from_db()
    return order


def usd_to_eur() -> None:
    ExchangeRate.objects.create(base="USD", quote="EUR", rate=Decimal("0.50"),
                                valid_from=date(2026, 1, 1))


def test_the_hold_reason_says_every_figure_with_the_order_converted(customer, owing):
    usd_to_eur()
    order = decide_new_order(customer, currency="USD", product=owing["product"], limit="80.00")
    assert order.status == "on_hold" and order.hold_reason == "credit_limit"
    # 12.00 open + 40.00 still due (not the invoice's 60.00, not the invoiced
    # order a second time) + 60.00 USD at 0.50 = 82.00 EUR.
    assert order.hold_note == (
        "Open orders €12.00 plus unpaid invoices €40.00 plus this order $60.00 (€30.00) "
        "make €82.00, over the credit limit €80.00.")
    event = OrderEvent.objects.filter(order=order, to_status="on_hold").get()
    assert event.data["cause"] == "credit_exposure_converted"
    assert event.data["figures"]["invoices"] == {"amount": "40.00", "currency": "EUR"}
    assert event.data["figures"]["order"] == {"amount": "60.00", "currency": "USD"}
    assert event.summary == order.hold_note


def test_within_the_limit_once_converted_the_order_goes_on(customer, owing):
    usd_to_eur()
    order = decide_new_order(customer, currency="USD", product=owing["product"], limit="82.00")
    assert order.status == "reserved"


def test_a_limit_in_another_currency_converts_the_euro_figures(customer, owing):
    usd_to_eur()  # stored one way, read the other way too
    Customer.objects.filter(pk=customer.pk).update(credit_limit_currency="USD")
    order = decide_new_order(customer, currency="EUR", product=owing["product"], limit="200.00")
    assert order.hold_note == (
        "Open orders $24.00 plus unpaid invoices $80.00 plus this order €60.00 "
        "($120.00) make $224.00, over the credit limit $200.00.")


def test_same_currency_figures_without_conversion(customer, owing):
    order = decide_new_order(customer, currency="EUR", product=owing["product"], limit="100.00")
    assert order.hold_note == (
        "Open orders €12.00 plus unpaid invoices €40.00 plus this order €60.00 "
        "make €112.00, over the credit limit €100.00.")


def test_a_missing_rate_holds_the_order_and_says_which_rather_than_a_wrong_sum(
        customer, owing):
    order = decide_new_order(customer, currency="USD", product=owing["product"],
                             limit="100000.00")
    assert order.status == "on_hold" and order.hold_reason == "credit_limit"
    assert order.hold_note == ("No exchange rate from USD to EUR: the credit exposure cannot "
                               "be computed; check the credit limit by hand.")
    event = OrderEvent.objects.filter(order=order, to_status="on_hold").get()
    assert event.summary == order.hold_note


def test_an_order_alone_exactly_at_the_limit_goes_on(customer):
    product = stocked_product(unit_price=Decimal("10.00"))
    order = decide_new_order(customer, currency="EUR", product=product, limit="12.00")
    assert order.status == "reserved"


def test_a_settled_invoice_counts_nothing(customer, owing):
    invoice = Invoice.objects.get(customer=customer)
    services.record_invoice_payment(invoice_id=invoice.pk, actor=None,
                                    data=services.InvoicePaymentInput(
                                        amount=Decimal("40.00"), method="bank_transfer",
                                        received_on=timezone.localdate()))
    order = decide_new_order(customer, currency="EUR", product=owing["product"], limit="72.00")
    assert order.status == "reserved"  # 12.00 open + 0.00 due + 60.00
