"""customers.services: create, update, upsert and addresses, with field errors."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from customers.inputs import CustomerAddressInput, CustomerInput, NewCustomer
from customers.models import Address, Customer
from customers.services import (
    add_address,
    create_customer,
    update_address,
    update_customer,
    upsert_customer,
)
from oms.lib.errors import ApplicationError
from tests.factories.customers import AddressFactory, CustomerFactory, address_data

pytestmark = pytest.mark.django_db


def _create(*, actor, addresses=(), **fields):
    """create_customer with its input parsed from keyword data, as a form would."""
    return create_customer(CustomerInput.parse({**fields, "addresses": list(addresses)}),
                           actor=actor)


def _upsert(*, actor, addresses=(), **fields):
    """upsert_customer with its inputs parsed from keyword data, as capture would."""
    return upsert_customer(NewCustomer.parse(fields), actor=actor, addresses=[
        CustomerAddressInput.parse(address, prefix=f"addresses.{index}.")
        for index, address in enumerate(addresses)])


def test_create_customer_normalises_and_makes_first_addresses_default():
    customer = _create(
        name="  Ada   Lovelace ", email="Ada@Example.COM", actor=None, kind="company",
        vat_id="fr 40 303 265 045", payment_terms_days=30, credit_limit="1500.00",
        addresses=[{**address_data(country="fr"), "kind": "shipping"},
                   {**address_data(city="Lyon"), "kind": "billing"},
                   {**address_data(city="Nice"), "kind": "shipping"}])
    assert (customer.name, customer.email) == ("Ada Lovelace", "ada@example.com")
    assert customer.vat_id == "FR40303265045"
    assert customer.credit_limit == Decimal("1500.00")
    defaults = Address.objects.filter(customer=customer, is_default=True)
    assert sorted(defaults.values_list("kind", "city")) == [("billing", "Lyon"),
                                                           ("shipping", "Paris")]
    assert customer.addresses.get(city="Paris").country == "FR"


def test_email_is_unique_whatever_the_case():
    CustomerFactory(email="ada@example.com")
    with pytest.raises(ApplicationError) as exc:
        _create(name="Ada", email="ADA@example.com", actor=None)
    assert "email" in exc.value.field_errors
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("fields, field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"email": "not-an-email"}, "email"),
    ({"email": ""}, "email"),
    ({"phone": "call me maybe"}, "phone"),
    ({"kind": "robot"}, "kind"),
    ({"payment_preference": "gold"}, "payment_preference"),
    ({"standing": "vip"}, "standing"),
    ({"preferred_language": "xx"}, "preferred_language"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": 5}, "time_zone"),
    ({"payment_terms_days": -1}, "payment_terms_days"),
    ({"payment_terms_days": "30"}, "payment_terms_days"),
    ({"payment_terms_days": 400}, "payment_terms_days"),
    ({"credit_limit": "-1"}, "credit_limit"),
    ({"credit_limit": "abc"}, "credit_limit"),
    ({"credit_limit": 1.5}, "credit_limit"),
    ({"credit_limit": "1.001"}, "credit_limit"),
    ({"credit_limit": "NaN"}, "credit_limit"),
    ({"accepts_backorder": "yes"}, "accepts_backorder"),
])
def test_bad_customer_field_is_a_field_error_and_nothing_written(fields, field):
    values = {"name": "Ada", "email": "ada@example.com", **fields}
    with pytest.raises(ApplicationError) as exc:
        _create(actor=None, **values)
    assert field in exc.value.field_errors
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("address, field", [
    (address_data(name=""), "addresses.0.name"),
    (address_data(line1=""), "addresses.0.line1"),
    (address_data(postal_code=""), "addresses.0.postal_code"),
    (address_data(city=""), "addresses.0.city"),
    (address_data(country="FRA"), "addresses.0.country"),
    (address_data(country="1A"), "addresses.0.country"),
    (address_data(line2=5), "addresses.0.line2"),
    ({**address_data(), "kind": "home"}, "addresses.0.kind"),
])
def test_bad_address_is_a_field_error_and_nothing_written(address, field):
    address = {"kind": "shipping", **address}
    with pytest.raises(ApplicationError) as exc:
        _create(name="Ada", email="ada@example.com", actor=None, addresses=[address])
    assert field in exc.value.field_errors
    assert Customer.objects.count() == 0 and Address.objects.count() == 0


def test_update_customer_changes_only_given_fields():
    customer = CustomerFactory(name="Old", standing="new")
    update_customer(customer=customer, actor=None, standing="trusted", credit_limit="100")
    customer.refresh_from_db()
    assert (customer.name, customer.standing, customer.credit_limit) == (
        "Old", "trusted", Decimal("100.00"))


def test_update_customer_refuses_another_customers_email():
    CustomerFactory(email="taken@example.com")
    customer = CustomerFactory(email="mine@example.com")
    with pytest.raises(ApplicationError) as exc:
        update_customer(customer=customer, actor=None, email="TAKEN@example.com")
    assert "email" in exc.value.field_errors
    customer.refresh_from_db()
    assert customer.email == "mine@example.com"


def test_upsert_finds_existing_by_email_in_any_case_and_keeps_its_terms():
    existing = CustomerFactory(email="ada@example.com", name="Ada L.", standing="trusted",
                               phone="")
    result = _upsert(email="ADA@EXAMPLE.com", name="Someone Else", phone="+33 1 23",
                             actor=None,
                             addresses=[{**address_data(city="Lille"), "kind": "shipping"}])
    assert result.pk == existing.pk
    result.refresh_from_db()
    assert (result.name, result.standing, result.phone) == ("Ada L.", "trusted", "+33 1 23")
    assert list(result.addresses.values_list("city", flat=True)) == ["Lille"]


def test_upsert_does_not_duplicate_a_known_address():
    customer = CustomerFactory(email="ada@example.com")
    AddressFactory(customer=customer, **{k: v for k, v in address_data().items()
                                         if k != "name"}, name="Ada Lovelace")
    _upsert(email="ada@example.com", name="Ada", actor=None,
                    addresses=[{**address_data(), "kind": "shipping"}])
    assert customer.addresses.count() == 1


def test_upsert_creates_a_new_customer_as_new_standing():
    customer = _upsert(email="new@example.com", name="New Person", actor=None)
    assert customer.standing == "new" and customer.email == "new@example.com"


@pytest.mark.django_db(transaction=True)
def test_concurrent_upserts_of_one_email_create_one_customer():
    barrier = threading.Barrier(8)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(_upsert(email="race@example.com", name="Racer",
                                           actor=None).pk)
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(set(results)) == 1, results
    assert Customer.objects.filter(email="race@example.com").count() == 1


def test_add_address_as_default_replaces_the_previous_default():
    customer = CustomerFactory()
    first = add_address(customer=customer, kind="shipping", actor=None, **address_data())
    second = add_address(customer=customer, kind="shipping", actor=None, is_default=True,
                         **address_data(city="Lyon"))
    first.refresh_from_db()
    assert first.is_default is False and second.is_default is True


def test_update_address_validates_and_can_take_the_default():
    customer = CustomerFactory()
    first = add_address(customer=customer, kind="shipping", actor=None, **address_data())
    second = add_address(customer=customer, kind="shipping", actor=None,
                         **address_data(city="Lyon"))
    with pytest.raises(ApplicationError) as exc:
        update_address(address=second, actor=None, country="Germany")
    assert "addresses.0.country" in exc.value.field_errors
    update_address(address=second, actor=None, is_default=True, city="Lyon 2e")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default, second.city) == (False, True, "Lyon 2e")


def test_standing_helpers():
    assert CustomerFactory(standing="blocked").is_blocked
    assert CustomerFactory(standing="trusted").is_trusted
    assert not CustomerFactory(standing="new").is_trusted
