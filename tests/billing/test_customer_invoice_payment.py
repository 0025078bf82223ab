"""The customer pays an open invoice by card from the order's page: paid
once under a double or simultaneous submit, a declined card records
nothing, another order's invoice or a bad token answers the page's 404."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from billing.models import Invoice, InvoicePayment, InvoiceStatus, Payment, PaymentTransaction
from billing.providers.sandbox import APPROVE, DECLINE, NEEDS_REVIEW
from orders.links import live_link_token
from orders.models import OrderStatus
from tests.billing.invoicing_support import reserved_order, ship
from tests.billing.test_double_submits import submit_together

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {"card_number": APPROVE, "expiry": "12/39", "cvc": "123",
        "attempt_key": "a" * 32}


@pytest.fixture
def invoice(django_capture_on_commit_callbacks, fresh_shared_cache) -> Invoice:
    """An order on 30-day terms, shipped and invoiced (open invoice)."""
    order = reserved_order()
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    mail.outbox.clear()
    return Invoice.objects.get(order=order)


def _pay_url(invoice: Invoice, order=None) -> str:
    token = live_link_token(order or invoice.order)
    return reverse("customer_pay_invoice", kwargs={"token": token, "pk": invoice.pk})


def test_the_page_offers_pay_for_each_open_invoice(client, invoice):
    page = client.get(reverse("customer_order_page",
                              kwargs={"token": live_link_token(invoice.order)}))
    html = page.content.decode()
    assert f'data-open-invoice="{invoice.number}"' in html
    assert _pay_url(invoice) in html
    form = client.get(_pay_url(invoice)).content.decode()
    assert 'name="card_number"' in form and "Pay €" in form


def test_paying_settles_the_invoice_marks_the_order_paid_and_emails_the_customer(
        client, invoice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_pay_url(invoice), CARD)
    assert response.status_code == 200
    assert "Thank you. We received" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    record = InvoicePayment.objects.get(invoice=invoice)
    assert record.method == "card" and record.amount == invoice.total_gross
    assert record.payment.status == "captured"
    assert invoice.order.__class__.objects.get(pk=invoice.order_id).status == OrderStatus.PAID
    (message,) = mail.outbox
    assert message.subject == f"Payment received for order {invoice.order.number}"
    assert invoice.number in message.body
    # The page no longer offers to pay it.
    page = client.get(reverse("customer_order_page",
                              kwargs={"token": live_link_token(invoice.order)}))
    assert "data-open-invoice" not in page.content.decode()


def test_a_double_submit_pays_once_and_answers_with_the_first_payment(client, invoice):
    first = client.post(_pay_url(invoice), CARD)
    second = client.post(_pay_url(invoice), CARD)
    assert first.status_code == second.status_code == 200
    assert "Thank you. We received" in second.content.decode()
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1
    assert Payment.objects.filter(order=invoice.order, method="card").count() == 1
    assert PaymentTransaction.objects.filter(payment__order=invoice.order,
                                             kind="capture").count() == 1


def test_two_submits_at_once_pay_once(invoice):
    statuses = submit_together([Client(), Client()], _pay_url(invoice), CARD)
    assert statuses == [200, 200]
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1
    invoice.refresh_from_db()
    assert invoice.amount_paid == invoice.total_gross


def test_a_declined_card_says_so_and_records_nothing(client, invoice,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_pay_url(invoice), {**CARD, "card_number": DECLINE})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The card was declined." in html
    assert 'value="' + "a" * 32 not in html  # a fresh attempt key for the next try
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and invoice.amount_paid == 0
    assert not InvoicePayment.objects.filter(invoice=invoice).exists()
    assert mail.outbox == []


def test_a_bad_card_number_is_a_field_error(client, invoice):
    response = client.post(_pay_url(invoice), {**CARD, "card_number": "4242 4242 4242 4241"})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert not Payment.objects.filter(order=invoice.order, method="card").exists()


def test_another_orders_invoice_and_a_bad_token_answer_the_pages_404(client, invoice):
    other = reserved_order()
    wrong_order = client.get(_pay_url(invoice, order=other))
    assert wrong_order.status_code == 404
    posted = client.post(_pay_url(invoice, order=other), CARD)
    assert posted.status_code == 404
    bad_token = client.post(reverse("customer_pay_invoice",
                                    kwargs={"token": "x" * 43, "pk": invoice.pk}), CARD)
    assert bad_token.status_code == 404
    assert wrong_order.content == bad_token.content
    assert not Payment.objects.filter(order=invoice.order, method="card").exists()


def test_a_paid_invoice_takes_no_second_payment(client, invoice):
    client.post(_pay_url(invoice), CARD)
    again = client.post(_pay_url(invoice), {**CARD, "attempt_key": "b" * 32})
    assert again.status_code == 409
    assert "already settled" in again.content.decode()
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1


def test_a_card_held_for_the_gateways_review_is_released_and_records_nothing(client, invoice):
    response = client.post(_pay_url(invoice), {**CARD, "card_number": NEEDS_REVIEW})
    assert response.status_code == 400
    assert "manual review" in response.content.decode()
    assert Payment.objects.get(order=invoice.order, method="card").status == "voided"
    assert not InvoicePayment.objects.filter(invoice=invoice).exists()


def test_declines_are_capped_so_the_page_cannot_test_stolen_cards(client, invoice, settings):
    settings.BILLING_CARD_RETRY_MAX_ATTEMPTS = 2
    for key in ("1" * 32, "2" * 32):
        assert client.post(_pay_url(invoice), {**CARD, "card_number": DECLINE,
                                               "attempt_key": key}).status_code == 400
    capped = client.post(_pay_url(invoice), {**CARD, "attempt_key": "3" * 32})
    assert capped.status_code == 409
    assert "Too many attempts" in capped.content.decode()
    assert not InvoicePayment.objects.filter(invoice=invoice).exists()


def test_payment_posts_count_against_the_pages_rate_limit(client, invoice, settings):
    settings.ORDER_PAGE_RATE_LIMIT_PER_MINUTE = 1
    url = _pay_url(invoice)
    assert client.get(url).status_code == 200
    assert client.post(url, CARD).status_code == 429
    assert not InvoicePayment.objects.filter(invoice=invoice).exists()

