"""Orders tests run without billing's approver unless a test installs one,
so they state the orders behaviour alone."""

from __future__ import annotations

import pytest

from orders import payments


@pytest.fixture(autouse=True)
def no_payment_approver(monkeypatch):
    # Through monkeypatch, so a test that installs an approver with monkeypatch
    # too is undone in the right order and billing's approver always comes back.
    monkeypatch.setattr(payments, "_approver", None)


@pytest.fixture
def approver_calls():
    """Install a recording approver; returns the list of its calls."""
    calls: list[dict] = []
    payments.register_payment_approver(lambda **kwargs: calls.append(kwargs))
    return calls
