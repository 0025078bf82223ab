"""The currency of a customer's credit limit: Accounting's, one of the
configured currencies, an unknown code a field error that changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers import services
from customers.inputs import CustomerInput
from customers.models import Customer, CustomerEvent
from oms.lib.errors import ApplicationError
from tests.customers.test_views import VALID
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_new_customer_gets_the_base_currency():
    customer = services.create_customer(
        CustomerInput.parse({"email": "a@example.com", "name": "A"}), actor=None)
    assert customer.credit_limit_currency == "EUR"


def test_accounting_sets_the_currency_and_the_card_shows_the_limit_in_it(client_for):
    client = client_for("Accounting")
    customer = CustomerFactory(credit_limit=Decimal("100.00"))
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           {**VALID, "email": customer.email, "name": customer.name,
                            "credit_limit": "2500.00", "credit_limit_currency": "GBP"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.credit_limit_currency == "GBP"
    changes = CustomerEvent.objects.get(customer=customer).data["changes"]
    assert changes["credit_limit_currency"] == {"before": "EUR", "after": "GBP"}
    card = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Credit limit: €100.00 → £2,500.00" in card


def test_an_unknown_currency_in_the_form_is_a_field_error_and_nothing_changes(client_for):
    client = client_for("Accounting")
    customer = CustomerFactory(credit_limit=Decimal("100.00"))
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           {**VALID, "email": customer.email, "name": "Renamed",
                            "credit_limit_currency": "XYZ"})
    assert response.status_code == 400
    assert "credit_limit_currency" in response.context["form"].errors
    customer.refresh_from_db()
    assert customer.name != "Renamed" and customer.credit_limit_currency == "EUR"


@pytest.mark.parametrize("value", ["XYZ", "eur", "", None, 978])
def test_the_service_refuses_an_unknown_currency_with_a_field_error(value):
    customer = CustomerFactory()
    with pytest.raises(ApplicationError) as caught:
        services.update_customer(customer=customer, actor=None, credit_limit_currency=value)
    assert "credit_limit_currency" in caught.value.field_errors
    assert Customer.objects.get(pk=customer.pk).credit_limit_currency == "EUR"


def test_sales_may_not_change_the_currency(client_for):
    client = client_for("Sales")
    customer = CustomerFactory()
    response = client.post(reverse("customers:edit", args=[customer.pk]),
                           {**VALID, "email": customer.email, "name": customer.name,
                            "credit_limit_currency": "USD"})
    assert response.status_code == 403
    assert Customer.objects.get(pk=customer.pk).credit_limit_currency == "EUR"
