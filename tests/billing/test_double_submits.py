"""Accounting's money forms write once per rendered form: a replayed POST,
a double click or two submits at once record one payment, apply the credit
once and issue one credit note, and the replay says what the first one did."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing import services
from billing.models import CreditNote, CustomerCredit, Invoice, InvoicePayment
from oms.lib.submissions import new_submission_key
from oms.models import FormSubmission
from orders.models import EventKind
from tests.billing.invoicing_support import reserved_order, ship

KEY = re.compile(r'name="submission_key" value="([0-9a-f]{32})"')


@pytest.fixture
def invoice(db, django_capture_on_commit_callbacks) -> Invoice:
    order = reserved_order()  # gross 24.00 on 30-day terms
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    return Invoice.objects.get(order=order)


def rendered_keys(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return KEY.findall(response.content.decode())


def payment(key: str, amount: str = "10.00") -> dict:
    return {"amount": amount, "method": "bank_transfer",
            "received_on": timezone.localdate().isoformat(), "reference": "STMT-7",
            "submission_key": key}


def credit_note(key: str, net: str = "5.00") -> dict:
    return {"description": "Scratched", "net": net, "tax_rate": "20.00",
            "reason": "Damaged in transit", "submission_key": key}


def flashed(response) -> str:
    """The last message the response left for the next page."""
    return [str(message) for message in get_messages(response.wsgi_request)][-1]


@pytest.mark.django_db
def test_every_render_of_the_invoice_page_carries_new_form_keys(invoice, client_for):
    client = client_for("Accounting")
    url = reverse("billing:invoice_detail", args=[invoice.pk])
    first, second = rendered_keys(client, url), rendered_keys(client, url)
    assert len(first) == len(second) == 1  # the payment form (no credit to apply)
    assert first != second
    note_url = reverse("billing:credit_note", args=[invoice.pk])
    assert rendered_keys(client, note_url) != rendered_keys(client, note_url)


@pytest.mark.django_db
def test_replaying_the_record_payment_post_records_one_payment(invoice, client_for):
    client = client_for("Accounting")
    [key] = rendered_keys(client, reverse("billing:invoice_detail", args=[invoice.pk]))
    url = reverse("billing:record_payment", args=[invoice.pk])

    first = client.post(url, payment(key))
    replay = client.post(url, payment(key))

    assert first.status_code == replay.status_code == 302
    assert replay["Location"] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert flashed(replay) == (f"This payment was already recorded: €10.00 on {invoice.number}."
                              " It was not recorded again.")
    recorded = InvoicePayment.objects.get()
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("10.00")
    submission = FormSubmission.objects.get()
    assert (submission.key, submission.purpose, submission.result_id, submission.actor) == (
        key, services.PAYMENT_SUBMISSION, recorded.pk, client.user)
    # The customer hears of the money once.
    assert recorded.invoice.order.events.filter(kind=EventKind.PAYMENT).count() == 1


@pytest.mark.django_db
def test_a_replay_over_htmx_sends_the_browser_to_the_invoice(invoice, client_for):
    client = client_for("Accounting")
    url = reverse("billing:record_payment", args=[invoice.pk])
    key = new_submission_key()
    assert client.post(url, payment(key), headers={"HX-Request": "true"}).status_code == 302

    replay = client.post(url, payment(key), headers={"HX-Request": "true"})

    assert replay.status_code == 200
    assert replay["HX-Redirect"] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert InvoicePayment.objects.count() == 1


@pytest.mark.django_db
def test_a_post_without_a_form_key_is_refused_and_writes_nothing(invoice, client_for):
    client = client_for("Accounting")
    for data in [payment(""), {**payment(""), "submission_key": "not-a-key"}]:
        response = client.post(reverse("billing:record_payment", args=[invoice.pk]), data)
        assert response.status_code == 400
        assert "submission_key" in response.context["payment_form"].errors
        assert "This form is out of date" in response.content.decode()
    response = client.post(reverse("billing:credit_note", args=[invoice.pk]), credit_note(""))
    assert response.status_code == 400
    response = client.post(reverse("billing:apply_credit", args=[invoice.pk]))
    assert response.status_code == 400
    assert not InvoicePayment.objects.exists() and not CreditNote.objects.exists()
    assert not FormSubmission.objects.exists()


@pytest.mark.django_db
def test_replaying_the_credit_note_post_issues_one_credit_note(invoice, client_for):
    client = client_for("Accounting")
    url = reverse("billing:credit_note", args=[invoice.pk])
    [key] = rendered_keys(client, url)

    first = client.post(url, credit_note(key))
    replay = client.post(url, credit_note(key))

    assert first.status_code == replay.status_code == 302
    note = CreditNote.objects.get()
    assert flashed(replay) == (f"Credit note {note.number} was already issued from this form. "
                              "No second credit note was issued.")
    invoice.refresh_from_db()
    assert invoice.amount_credited == Decimal("6.00")


@pytest.mark.django_db
def test_a_refused_credit_note_leaves_its_key_for_the_corrected_form(invoice, client_for):
    client = client_for("Accounting")
    url = reverse("billing:credit_note", args=[invoice.pk])
    key = new_submission_key()

    refused = client.post(url, credit_note(key, net="500.00"))  # more than the invoice

    assert refused.status_code == 400
    assert KEY.findall(refused.content.decode()) == [key]  # shown again with the same key
    assert not FormSubmission.objects.exists()
    assert client.post(url, credit_note(key)).status_code == 302
    assert CreditNote.objects.count() == 1


@pytest.mark.django_db
def test_a_key_of_another_form_writes_nothing_and_says_so(invoice, client_for):
    client = client_for("Accounting")
    key = new_submission_key()
    client.post(reverse("billing:record_payment", args=[invoice.pk]), payment(key))

    response = client.post(reverse("billing:credit_note", args=[invoice.pk]), credit_note(key))

    assert response.status_code == 302
    assert flashed(response) == "This form was already submitted; nothing was recorded again."
    assert not CreditNote.objects.exists()


@pytest.mark.django_db
def test_pressing_apply_credit_twice_applies_the_credit_once(invoice, client_for):
    services.record_invoice_payment(
        invoice_id=invoice.pk, actor=None,
        data=services.InvoicePaymentInput(amount=invoice.total_gross + Decimal("30.00"),
                                          method="cash", received_on=timezone.localdate()))
    second = services.issue_invoice(order_id=reserved_order(customer=invoice.customer).pk,
                                    actor=None)
    assert second.total_gross < Decimal("30.00")
    client = client_for("Accounting")
    keys = rendered_keys(client, reverse("billing:invoice_detail", args=[second.pk]))
    assert len(keys) == 2  # the payment form and the apply-credit button
    url = reverse("billing:apply_credit", args=[second.pk])

    first = client.post(url, {"submission_key": keys[0]})
    replay = client.post(url, {"submission_key": keys[0]})

    assert first.status_code == replay.status_code == 302
    applied = InvoicePayment.objects.get(invoice=second)
    assert applied.amount == second.total_gross
    assert flashed(replay) == (f"€{applied.amount} of customer credit was already applied to "
                              f"{second.number}. Nothing was applied again.")
    # The rest of the credit is still there for the next invoice.
    balance = sum(CustomerCredit.objects.values_list("amount", flat=True))
    assert balance == Decimal("30.00") - applied.amount


def submit_together(clients: list[Client], url: str, data: dict) -> list[int]:
    """POST the same form from every client at once (one connection each)."""
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send(client: Client) -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(client.post(url, data).status_code)
        except BaseException as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return statuses


@pytest.fixture
def accounting_clients(make_user):
    user = make_user("Accounting")
    clients = [Client() for _ in range(4)]
    for client in clients:
        client.force_login(user)
    return clients


@pytest.mark.django_db(transaction=True)
def test_four_simultaneous_payment_submits_record_one_payment(invoice, accounting_clients):
    url = reverse("billing:record_payment", args=[invoice.pk])

    statuses = submit_together(accounting_clients, url, payment(new_submission_key()))

    assert statuses == [302] * 4  # one recorded it, three were told it was
    assert InvoicePayment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("10.00")
    assert FormSubmission.objects.get().result_id == InvoicePayment.objects.get().pk


@pytest.mark.django_db(transaction=True)
def test_four_simultaneous_credit_note_submits_issue_one_credit_note(invoice,
                                                                     accounting_clients):
    url = reverse("billing:credit_note", args=[invoice.pk])

    statuses = submit_together(accounting_clients, url, credit_note(new_submission_key()))

    assert statuses == [302] * 4
    note = CreditNote.objects.get()
    assert note.number is not None
    invoice.refresh_from_db()
    assert invoice.amount_credited == Decimal("6.00")
