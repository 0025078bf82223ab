"""The periodic pass that voids payments left open by closed orders."""

from __future__ import annotations

import pytest

from billing import services
from billing.models import Payment
from billing.tasks import void_payments_of_closed_orders
from orders.services import cancel_order
from tests.factories.billing import APPROVE, bank_transfer, card
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db


def test_cancelled_orders_open_payments_are_voided_and_others_kept(place, make_user):
    cancelled = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    waiting = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    prepaid = place(customer=CustomerFactory(standing="trusted",
                                             payment_preference="bank_transfer"),
                    payment=bank_transfer())
    cancel_order(order_id=cancelled.pk, actor=make_user("Sales"), reason="changed mind")
    cancel_order(order_id=prepaid.pk, actor=make_user("Accounting"), reason="never paid")
    assert void_payments_of_closed_orders() == 2
    assert Payment.objects.get(order=cancelled).status == "voided"
    assert Payment.objects.get(order=prepaid).status == "voided"
    assert Payment.objects.get(order=waiting).status == "authorised"
    assert services.void_payments_of_closed_orders() == 0
