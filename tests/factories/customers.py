"""Factories for the customers app."""

from __future__ import annotations

from decimal import Decimal

import factory

from customers.models import Address, Customer


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    kind = "person"
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+33 6 12 34 {n % 100:02d} {n // 100 % 100:02d}")
    preferred_language = "en"
    payment_preference = "card"
    payment_terms_days = 0
    credit_limit = Decimal("0.00")
    standing = "trusted"


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    kind = "shipping"
    name = factory.LazyAttribute(lambda a: a.customer.name)
    line1 = "12 Rue de la Paix"
    postal_code = "75002"
    city = "Paris"
    country = "FR"
    is_default = True


def address_data(**overrides) -> dict:
    """A valid address dict as the services take it."""
    return {"name": "Ada Lovelace", "line1": "12 Rue de la Paix", "line2": "",
            "postal_code": "75002", "city": "Paris", "region": "", "country": "FR",
            **overrides}
