"""Customers admin: browsable, and the case-insensitive e-mail rule holds there too."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer, CustomerEvent
from tests.factories.customers import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_and_address_admin_pages_open(client_for):
    client = client_for("Admin")
    address = AddressFactory()
    for name in ["customer", "address"]:
        response = client.get(reverse(f"admin:customers_{name}_changelist"),
                              {"q": address.customer.name})
        assert response.status_code == 200
        assert address.customer.name in response.content.decode()
    assert client.get(reverse("admin:customers_customer_change",
                              args=[address.customer.pk])).status_code == 200


def test_admin_refuses_a_duplicate_email_in_another_case(client_for):
    client = client_for("Admin")
    CustomerFactory(email="ada@example.com")
    response = client.post(reverse("admin:customers_customer_add"), {
        "kind": "person", "name": "Ada 2", "email": "ADA@example.com",
        "preferred_language": "en", "payment_preference": "card", "payment_terms_days": 0,
        "credit_limit": "0", "standing": "new",
        "addresses-TOTAL_FORMS": 0, "addresses-INITIAL_FORMS": 0,
        "contacts-TOTAL_FORMS": 0, "contacts-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Customer.objects.count() == 1


def _change_form(customer, **changes) -> dict:
    return {"kind": customer.kind, "name": customer.name, "email": customer.email,
            "phone": customer.phone, "vat_id": customer.vat_id,
            "preferred_language": customer.preferred_language,
            "payment_preference": customer.payment_preference,
            "payment_terms_days": customer.payment_terms_days,
            "credit_limit": str(customer.credit_limit),
            "credit_limit_currency": customer.credit_limit_currency, "standing": customer.standing,
            "notes": customer.notes,
            "addresses-TOTAL_FORMS": 0, "addresses-INITIAL_FORMS": 0,
            "contacts-TOTAL_FORMS": 0, "contacts-INITIAL_FORMS": 0,
            "events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0, **changes}


def test_admin_changes_credit_terms_through_the_service_with_an_audit_event(client_for):
    client = client_for("Admin")
    customer = CustomerFactory(standing="new", credit_limit="0.00")
    response = client.post(reverse("admin:customers_customer_change", args=[customer.pk]),
                           _change_form(customer, standing="trusted", credit_limit="750.00"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.standing, customer.credit_limit) == ("trusted", Decimal("750.00"))
    event = CustomerEvent.objects.get()
    assert event.actor == client.user and event.data["changes"] == {
        "credit_limit": {"before": "0.00", "after": "750.00"},
        "standing": {"before": "new", "after": "trusted"}}


def test_staff_without_the_credit_permission_sees_terms_read_only_and_cannot_forge(
        client, make_user):
    staff = make_user("Sales", username="sales_staff", is_staff=True)
    client.force_login(staff)
    customer = CustomerFactory(name="Old", standing="blocked", credit_limit="0.00")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="credit_limit"' not in page.content.decode()
    response = client.post(url, _change_form(customer, name="New", standing="trusted",
                                             credit_limit="99999.00"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.standing, customer.credit_limit) == (
        "New", "blocked", Decimal("0.00"))
    assert not CustomerEvent.objects.exists()
