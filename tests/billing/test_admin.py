"""Payments in the admin: browsable and searchable, read-only, actions through services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import Payment
from tests.factories.billing import APPROVE, DECLINE, bank_transfer, card
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db


def test_payment_changelist_filters_and_searches(client_for, place):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(APPROVE))
    client = client_for("Admin")
    url = reverse("admin:billing_payment_changelist")
    response = client.get(url, {"status__exact": "authorised", "q": order.number})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert client.get(url, {"status__exact": "refunded"}).context["cl"].result_count == 0
    payment = Payment.objects.get(order=order)
    detail = client.get(reverse("admin:billing_payment_change", args=[payment.pk]))
    assert detail.status_code == 200
    assert b'name="status"' not in detail.content and b'name="amount"' not in detail.content
    assert client.get(reverse("admin:billing_paymenttransaction_changelist"),
                      {"q": payment.provider_reference}).context["cl"].result_count == 1


def test_record_received_action_captures_through_the_service(client_for, place):
    order = place(customer=CustomerFactory(standing="trusted",
                                           payment_preference="bank_transfer"),
                  payment=bank_transfer())
    payment = Payment.objects.get(order=order)
    response = client_for("Admin").post(
        reverse("admin:billing_payment_changelist"),
        {"action": "record_received", "_selected_action": [payment.pk]}, follow=True)
    assert b"1 payment recorded as received." in response.content
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "captured" and order.status == "reserved"


def test_void_action_voids_through_the_service_and_is_idempotent(client_for, place):
    order = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    payment = Payment.objects.get(order=order)
    client = client_for("Admin")
    url = reverse("admin:billing_payment_changelist")
    for _ in range(2):
        client.post(url, {"action": "void", "_selected_action": [payment.pk]})
    payment.refresh_from_db()
    assert payment.status == "voided"
    assert payment.transactions.filter(kind="void").count() == 1


def test_void_action_reports_refusals(client_for, place):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    payment = Payment.objects.get(order=order)
    response = client_for("Admin").post(reverse("admin:billing_payment_changelist"),
                                        {"action": "void", "_selected_action": [payment.pk]},
                                        follow=True)
    assert "cannot be voided" in str([str(m) for m in response.context["messages"]])
    payment.refresh_from_db()
    assert payment.status == "declined"


def test_payment_actions_need_the_add_payment_permission(client, make_user, place):
    from django.contrib.auth.models import Permission

    place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    viewer = make_user(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_payment"))
    client.force_login(viewer)
    url = reverse("admin:billing_payment_changelist")
    assert b'value="record_received"' not in client.get(url).content
    viewer.user_permissions.add(Permission.objects.get(codename="add_payment"))
    assert b'value="record_received"' in client.get(url).content
