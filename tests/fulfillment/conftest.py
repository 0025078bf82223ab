"""Fulfillment tests approve orders themselves (no billing approver), so they
state the warehouse's behaviour alone."""

from __future__ import annotations

import pytest

from orders import payments


@pytest.fixture(autouse=True)
def no_payment_approver(monkeypatch):
    # Through monkeypatch, so its undo order with a test's own monkeypatch of
    # the approver always brings billing's approver back.
    monkeypatch.setattr(payments, "_approver", None)
