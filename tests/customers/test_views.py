"""Customer back office: list and search, create and edit with field errors,
addresses, and the customer card."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Address, Customer
from tests.factories.customers import CustomerFactory, address_data

pytestmark = pytest.mark.django_db

VALID = {"kind": "company", "name": "Acme SARL", "email": "buyer@acme.example",
         "phone": "+33 4 72 00 00 00", "vat_id": "FR12345678901", "preferred_language": "fr",
         "payment_preference": "net_terms", "payment_terms_days": "30",
         "credit_limit": "5000.00", "standing": "new", "notes": ""}


def test_list_searches_and_htmx_gets_the_results_only(client_for):
    client = client_for("Sales")
    CustomerFactory(name="Ada Lovelace")
    CustomerFactory(name="Bob Builder")
    response = client.get(reverse("customers:list"), {"q": "lovel"})
    assert [c.name for c in response.context["customers"]] == ["Ada Lovelace"]
    response = client.get(reverse("customers:list"), {"q": "bob"}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="customer-results")
    body = response.content.decode()
    assert "Bob Builder" in body and "<html" not in body


def test_create_customer_then_see_the_card(client_for):
    client = client_for("Sales")
    response = client.post(reverse("customers:create"), VALID)
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert (customer.payment_terms_days, customer.preferred_language) == (30, "fr")
    card = client.get(response["Location"])
    assert card.status_code == 200 and "Acme SARL" in card.content.decode()


@pytest.mark.parametrize("field, value", [
    ("email", "not-an-email"), ("name", ""), ("payment_terms_days", "-2"),
    ("payment_terms_days", "abc"), ("credit_limit", "-5"), ("kind", "robot"),
    ("phone", "call me"), ("preferred_language", "xx"),
])
def test_create_shows_field_errors_and_writes_nothing(client_for, field, value):
    client = client_for("Sales")
    response = client.post(reverse("customers:create"), {**VALID, field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert Customer.objects.count() == 0


def test_duplicate_email_in_another_case_is_a_field_error(client_for):
    client = client_for("Sales")
    CustomerFactory(email="buyer@acme.example")
    response = client.post(reverse("customers:create"), {**VALID, "email": "BUYER@acme.example"})
    assert response.status_code == 400
    assert "already exists" in str(response.context["form"].errors["email"])
    assert Customer.objects.count() == 1


def test_edit_customer_changes_the_fields(client_for):
    client = client_for("Customer service")
    customer = CustomerFactory(name="Old Name", standing="new")
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           {**VALID, "email": customer.email, "name": "New Name"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "New Name" and customer.payment_terms_days == 30


def test_add_and_edit_address(client_for):
    client = client_for("Sales")
    customer = CustomerFactory()
    response = client.post(reverse("customers:address_add", args=[customer.pk]),
                           {**address_data(country="de"), "kind": "shipping"})
    assert response.status_code == 302
    address = Address.objects.get()
    assert address.country == "DE" and address.is_default
    response = client.post(reverse("customers:address_edit", args=[customer.pk, address.pk]),
                           {**address_data(country="1x"), "kind": "shipping"})
    assert response.status_code == 400
    assert response.context["form"].errors["country"]
    response = client.post(reverse("customers:address_edit", args=[customer.pk, address.pk]),
                           {**address_data(city="Berlin", country="DE"), "kind": "shipping",
                            "is_default": "on"})
    address.refresh_from_db()
    assert response.status_code == 302 and address.city == "Berlin"


def test_roles_without_permission_get_403(client_for):
    customer = CustomerFactory()
    warehouse = client_for("Warehouse")
    assert warehouse.get(reverse("customers:list")).status_code == 403
    manager = client_for("Manager")  # may view, not edit
    assert manager.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    assert manager.post(reverse("customers:edit", args=[customer.pk]), VALID).status_code == 403
    assert manager.get(reverse("customers:create")).status_code == 403


def test_unknown_customer_is_404(client_for):
    client = client_for("Sales")
    assert client.get(reverse("customers:detail", args=[999999])).status_code == 404
