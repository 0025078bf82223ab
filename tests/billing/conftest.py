"""Fixtures of the billing tests."""

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


@pytest.fixture
def place(db, django_capture_on_commit_callbacks):
    """Place an order the way a channel does and let the after-commit work run:
    the registered payment approver (billing) and the outbox e-mails."""
    from orders.models import Order
    from tests.factories.orders import make_order

    def make(**kwargs) -> Order:
        with django_capture_on_commit_callbacks(execute=True):
            order = make_order(**kwargs)
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def manager(make_user):
    return make_user("Manager", username="manager")
