"""Separation of duties on credit terms and standing (customers.services):
only Accounting changes credit limit, payment terms and standing, whoever
else calls the service, and every change is an audit event with the values
before and after and the actor."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.inputs import CustomerInput, NewCustomer
from customers.models import Customer, CustomerEvent
from customers.services import create_customer, update_customer, upsert_customer
from oms.lib.errors import Forbidden
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db

TERMS = [("credit_limit", "99999.00"), ("payment_terms_days", 60), ("standing", "trusted")]


@pytest.mark.parametrize("role", ["Sales", "Customer service", "Manager", "Warehouse"])
@pytest.mark.parametrize("field, value", TERMS)
def test_only_accounting_may_change_a_credit_term(make_user, role, field, value):
    customer = CustomerFactory(standing="blocked", credit_limit=Decimal("10.00"),
                               payment_terms_days=0)
    with pytest.raises(Forbidden) as refused:
        update_customer(customer=customer, actor=make_user(role), name="Renamed",
                        **{field: value})
    assert refused.value.status == 403 and field in refused.value.field_errors
    customer.refresh_from_db()
    assert customer.standing == "blocked" and customer.credit_limit == Decimal("10.00")
    assert customer.payment_terms_days == 0 and customer.name != "Renamed"
    assert not CustomerEvent.objects.exists()


def test_sales_may_change_contact_details_and_resend_unchanged_terms(make_user):
    customer = CustomerFactory(standing="new", credit_limit=Decimal("10.00"))
    update_customer(customer=customer, actor=make_user("Sales"), name="Renamed",
                    standing="new", credit_limit="10.00")
    customer.refresh_from_db()
    assert customer.name == "Renamed" and customer.standing == "new"
    assert not CustomerEvent.objects.exists()


def test_accounting_change_is_recorded_with_before_after_and_actor(make_user):
    accounting = make_user("Accounting")
    customer = CustomerFactory(standing="blocked", credit_limit=Decimal("10.00"),
                               payment_terms_days=0)
    update_customer(customer=customer, actor=accounting, credit_limit="2500.50",
                    standing="trusted", payment_terms_days=0, name="Also renamed")
    customer.refresh_from_db()
    assert (customer.credit_limit, customer.standing) == (Decimal("2500.50"), "trusted")
    event = CustomerEvent.objects.get()
    assert (event.customer_id, event.actor_id, event.kind) == (
        customer.pk, accounting.pk, "credit_terms")
    # Only what changed: the unchanged payment terms are not in the payload.
    assert event.data == {"changes": {
        "credit_limit": {"before": "10.00", "after": "2500.50"},
        "standing": {"before": "blocked", "after": "trusted"}}}
    assert event.summary == "Credit limit: €10.00 → €2,500.50; Standing: Blocked → Trusted"


def test_the_system_may_change_terms_and_is_recorded_as_such():
    customer = CustomerFactory(standing="trusted")
    update_customer(customer=customer, actor=None, standing="blocked")
    event = CustomerEvent.objects.get()
    assert event.actor is None and event.actor_label == "System"


def test_creating_with_terms_needs_accounting_and_is_recorded(make_user):
    data = CustomerInput.parse({"name": "Acme", "email": "a@example.com",
                                "credit_limit": "5000.00", "standing": "trusted"})
    with pytest.raises(Forbidden):
        create_customer(data, actor=make_user("Sales"))
    assert not Customer.objects.exists()
    accounting = make_user("Accounting")
    customer = create_customer(data, actor=accounting)
    event = CustomerEvent.objects.get()
    assert event.actor == accounting and event.data == {"changes": {
        "credit_limit": {"before": "0.00", "after": "5000.00"},
        "standing": {"before": "new", "after": "trusted"}}}
    assert customer.credit_limit == Decimal("5000.00")


def test_sales_creates_customers_on_the_default_terms_without_an_event(make_user):
    create_customer(CustomerInput.parse({"name": "Acme", "email": "a@example.com"}),
                    actor=make_user("Sales"))
    upsert_customer(NewCustomer.parse({"name": "Bea", "email": "b@example.com"}),
                    actor=make_user("Customer service"))
    assert Customer.objects.count() == 2 and not CustomerEvent.objects.exists()


def test_upsert_with_terms_from_sales_is_refused(make_user):
    data = CustomerInput.parse({"name": "Acme", "email": "a@example.com",
                                "payment_terms_days": 90})
    with pytest.raises(Forbidden):
        upsert_customer(data, actor=make_user("Sales"))
    assert not Customer.objects.exists()
