"""Fixtures of the billing tests: a bare order for provider tests."""

from __future__ import annotations

import itertools

import pytest

_numbers = itertools.count(1)


@pytest.fixture
def bare_order(db):
    """An order row without lines: enough for a provider to attach payments to."""
    from customers.models import Customer
    from orders.models import Order

    def make(**extra):
        n = next(_numbers)
        customer = Customer.objects.create(name=f"Bare {n}", email=f"bare{n}@example.com")
        return Order.objects.create(number=f"SO-TEST-{n:06d}", customer=customer,
                                    channel="web", currency="EUR", **extra)

    return make
