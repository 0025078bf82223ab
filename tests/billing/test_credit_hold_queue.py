"""The approval queue and separation of duties: an order held for credit or a
missing prepayment shows Approve only to Accounting and managers, and a
forged approval from Sales is refused; Sales still decides the other holds."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import Order, OrderStatus
from orders.services import hold_order
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

QUEUE = reverse("billing:approval_queue")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def no_payment_approver(monkeypatch):
    from orders import payments

    monkeypatch.setattr(payments, "_approver", None)


def _held(reason: str) -> Order:
    order = make_order(customer=CustomerFactory(standing="trusted"),
                       lines=[(stocked_product(100), 1)])
    hold_order(order_id=order.pk, reason_code=reason, actor=None)
    return order


def test_sales_sees_approve_only_on_holds_it_may_release(client_for):
    credit, prepayment, new = (_held("credit_limit"), _held("prepayment_missing"),
                               _held("new_customer"))
    body = client_for("Sales").get(QUEUE).content.decode()
    for order in (credit, prepayment, new):
        assert order.number in body
        assert reverse("billing:reject", args=[order.pk]) in body
    assert reverse("billing:approve", args=[new.pk]) in body
    assert reverse("billing:approve", args=[credit.pk]) not in body
    assert reverse("billing:approve", args=[prepayment.pk]) not in body


@pytest.mark.parametrize("role", ["Accounting", "Manager"])
def test_accounting_and_managers_see_approve_on_credit_holds(client_for, role):
    credit, prepayment = _held("credit_limit"), _held("prepayment_missing")
    body = client_for(role).get(QUEUE).content.decode()
    assert reverse("billing:approve", args=[credit.pk]) in body
    assert reverse("billing:approve", args=[prepayment.pk]) in body


@pytest.mark.parametrize("reason", ["credit_limit", "prepayment_missing"])
def test_a_forged_approval_from_sales_is_403_and_accounting_releases(client_for, reason):
    order = _held(reason)
    response = client_for("Sales").post(reverse("billing:approve", args=[order.pk]),
                                        {"reason": "I know them"}, **HTMX)
    assert response.status_code == 403
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (OrderStatus.ON_HOLD, reason)
    accounting = client_for("Accounting")
    response = accounting.post(reverse("billing:approve", args=[order.pk]),
                               {"reason": "paid by phone"}, **HTMX)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED
    assert order.events.filter(to_status="reserved", actor=accounting.user,
                               reason="paid by phone",
                               data__released_hold=reason).exists()
