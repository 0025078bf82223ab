"""Reporting tests build their orders without billing's approver (orders stay
`placed`) unless a test installs one, so each states the figures it expects."""

from __future__ import annotations

import pytest

from orders import payments


@pytest.fixture(autouse=True)
def no_payment_approver(monkeypatch):
    # Through monkeypatch, so its undo order with a test's own monkeypatch of
    # the approver always brings billing's approver back.
    monkeypatch.setattr(payments, "_approver", None)
