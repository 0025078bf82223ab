"""Customer back office: list and search, create and edit with field errors,
addresses, and the customer card."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import CREDIT_TERMS_FIELDS, Address, Customer, CustomerEvent
from tests.factories.customers import CustomerFactory, address_data

pytestmark = pytest.mark.django_db

# What Sales and Customer service post: the credit terms are not in their form.
CONTACT = {"kind": "company", "name": "Acme SARL", "email": "buyer@acme.example",
           "phone": "+33 4 72 00 00 00", "vat_id": "FR12345678901", "preferred_language": "fr",
           "payment_preference": "net_terms", "notes": ""}
# What Accounting posts, with the terms.
VALID = {**CONTACT, "payment_terms_days": "30", "credit_limit": "5000.00",
         "credit_limit_currency": "EUR", "standing": "new"}


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
    response = client.post(reverse("customers:create"), CONTACT)
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    # A new customer starts prepaid, without credit, as new: Accounting sets terms.
    assert (customer.payment_terms_days, customer.credit_limit, customer.standing,
            customer.preferred_language) == (0, Decimal("0.00"), "new", "fr")
    card = client.get(response["Location"])
    assert card.status_code == 200 and "Acme SARL" in card.content.decode()


def test_the_customers_time_zone_is_kept_for_the_deadlines_of_its_emails(client_for):
    client = client_for("Sales")
    client.post(reverse("customers:create"), {**CONTACT, "time_zone": "Europe/Bucharest"})
    customer = Customer.objects.get()
    assert customer.time_zone == "Europe/Bucharest"
    assert str(customer.zone) == "Europe/Bucharest"
    assert "Europe/Bucharest" in client.get(
        reverse("customers:detail", args=[customer.pk])).content.decode()


@pytest.mark.parametrize("field, value", [
    ("email", "not-an-email"), ("name", ""), ("kind", "robot"),
    ("phone", "call me"), ("preferred_language", "xx"), ("time_zone", "Mars/Olympus"),
])
def test_create_shows_field_errors_and_writes_nothing(client_for, field, value):
    client = client_for("Sales")
    response = client.post(reverse("customers:create"), {**CONTACT, field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("field, value", [
    ("payment_terms_days", "-2"), ("payment_terms_days", "abc"), ("credit_limit", "-5"),
])
def test_edit_shows_credit_term_errors_to_accounting_and_writes_nothing(client_for, field,
                                                                        value):
    client = client_for("Accounting")
    customer = CustomerFactory(email="buyer@acme.example")
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           {**VALID, field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    customer.refresh_from_db()
    assert customer.payment_terms_days == 0 and customer.credit_limit == Decimal("0.00")
    assert not CustomerEvent.objects.exists()


def test_duplicate_email_in_another_case_is_a_field_error(client_for):
    client = client_for("Sales")
    CustomerFactory(email="buyer@acme.example")
    response = client.post(reverse("customers:create"), {**CONTACT, "email": "BUYER@acme.example"})
    assert response.status_code == 400
    assert "already exists" in str(response.context["form"].errors["email"])
    assert Customer.objects.count() == 1


def test_edit_customer_changes_the_fields(client_for):
    client = client_for("Accounting")
    customer = CustomerFactory(name="Old Name", standing="new")
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           {**VALID, "email": customer.email, "name": "New Name"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "New Name" and customer.payment_terms_days == 30


@pytest.mark.parametrize("role", ["Sales", "Customer service"])
def test_sales_and_customer_service_edit_contact_details_but_see_terms_read_only(
        client_for, role):
    client = client_for(role)
    customer = CustomerFactory(name="Old Name", standing="new", payment_terms_days=0)
    form = client.get(reverse("customers:edit", args=[customer.pk])).context["form"]
    assert all(form.fields[name].disabled for name in CREDIT_TERMS_FIELDS)
    assert not any(form.fields[name].disabled for name in ("name", "email", "phone"))
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           {**CONTACT, "email": customer.email, "name": "New Name"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.standing, customer.payment_terms_days) == (
        "New Name", "new", 0)
    assert not CustomerEvent.objects.exists()


@pytest.mark.parametrize("role", ["Sales", "Customer service"])
@pytest.mark.parametrize("field, value", [
    ("credit_limit", "1000000.00"), ("payment_terms_days", "90"), ("standing", "trusted"),
])
def test_a_forged_post_of_credit_terms_is_refused_with_403_and_changes_nothing(
        client_for, role, field, value):
    client = client_for(role)
    customer = CustomerFactory(name="Old Name", standing="blocked", credit_limit="100.00",
                               payment_terms_days=0)
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           {**CONTACT, "email": customer.email, "name": "New Name",
                            field: value})
    assert response.status_code == 403
    assert "Only Accounting" in str(response.context["form"].errors[field])
    customer.refresh_from_db()
    assert (customer.name, customer.standing, customer.credit_limit,
            customer.payment_terms_days) == ("Old Name", "blocked", Decimal("100.00"), 0)
    assert not CustomerEvent.objects.exists()


def test_sales_cannot_create_a_customer_with_credit_terms(client_for):
    client = client_for("Sales")
    response = client.post(reverse("customers:create"), {**CONTACT, "standing": "trusted",
                                                         "credit_limit": "50000.00"})
    assert response.status_code == 403
    assert Customer.objects.count() == 0


def test_accounting_changes_terms_and_the_card_shows_who_changed_what(client_for):
    client = client_for("Accounting")
    customer = CustomerFactory(standing="blocked", credit_limit="100.00", payment_terms_days=0)
    form = client.get(reverse("customers:edit", args=[customer.pk])).context["form"]
    assert not any(form.fields[name].disabled for name in CREDIT_TERMS_FIELDS)
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           {**VALID, "email": customer.email, "name": customer.name,
                            "standing": "trusted", "credit_limit": "2500.00",
                            "payment_terms_days": "30"})
    assert response.status_code == 302
    event = CustomerEvent.objects.get(customer=customer)
    assert event.actor == client.user
    assert event.data == {"changes": {
        "payment_terms_days": {"before": 0, "after": 30},
        "credit_limit": {"before": "100.00", "after": "2500.00"},
        "standing": {"before": "blocked", "after": "trusted"}}}
    card = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Credit terms changed" in card
    assert "Standing: Blocked → Trusted" in card and "€2,500.00" in card
    # Rendered from the payload in the reader's language, not the writer's.
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    card = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Bloqué → De confiance" in card


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
