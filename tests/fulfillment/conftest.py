"""Fulfillment tests approve orders themselves (no billing approver), so they
state the warehouse's behaviour alone."""

from __future__ import annotations

import pytest

from orders import payments


@pytest.fixture(autouse=True)
def no_payment_approver():
    previous = payments._approver
    payments._approver = None
    yield
    payments._approver = previous
