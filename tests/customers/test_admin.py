"""Customers admin: browsable, and the case-insensitive e-mail rule holds there too."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Customer
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
    })
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Customer.objects.count() == 1
