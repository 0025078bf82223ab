"""Separation of duties on orders held for credit or a missing prepayment:
only Accounting or a manager releases them (orders.services.approve_order),
Sales does not, not even an order it put on hold itself; other hold reasons
keep their rules. The order page offers Approve only to who may use it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oms.lib.errors import Forbidden
from orders.models import Order, OrderStatus
from orders.services import approve_order, change_hold_reason, hold_order
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "order-panel"}
CREDIT_HOLDS = ["credit_limit", "prepayment_missing"]


def _held(reason: str, *, actor=None) -> Order:
    order = make_order(lines=[(stocked_product(100), 1)])
    hold_order(order_id=order.pk, reason_code=reason, reason_text="check", actor=actor)
    return order


@pytest.mark.parametrize("reason", CREDIT_HOLDS)
def test_sales_cannot_release_a_credit_hold_it_put_on_itself(make_user, reason):
    sales = make_user("Sales")
    order = _held(reason, actor=sales)
    events = order.events.count()
    with pytest.raises(Forbidden) as refused:
        approve_order(order_id=order.pk, actor=sales, reason="I know them")
    assert refused.value.status == 403
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (OrderStatus.ON_HOLD, reason)
    assert order.events.count() == events


@pytest.mark.parametrize("reason", CREDIT_HOLDS)
def test_sales_cannot_turn_a_credit_hold_into_another_reason(make_user, reason):
    order = _held(reason)
    with pytest.raises(Forbidden):
        change_hold_reason(order_id=order.pk, reason_code="manual", actor=make_user("Sales"))
    order.refresh_from_db()
    assert order.hold_reason == reason


@pytest.mark.parametrize("role", ["Accounting", "Manager"])
@pytest.mark.parametrize("reason", CREDIT_HOLDS)
def test_accounting_and_managers_release_it_and_the_event_says_who_why_and_which_hold(
        make_user, role, reason):
    releaser = make_user(role)
    order = _held(reason, actor=make_user("Sales"))
    approve_order(order_id=order.pk, actor=releaser, reason="paid by phone")
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED
    event = order.events.get(from_status=OrderStatus.ON_HOLD, to_status=OrderStatus.RESERVED)
    assert (event.actor, event.reason, event.data) == (
        releaser, "paid by phone", {"released_hold": reason})
    assert event.summary.startswith("Hold released: ") and event.summary.endswith(
        "paid by phone")


def test_the_system_still_releases_a_prepayment_hold():
    """Billing approves by itself when the prepayment arrives."""
    order = _held("prepayment_missing")
    approve_order(order_id=order.pk, actor=None, reason="The prepayment was received.")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED


@pytest.mark.parametrize("reason", ["new_customer", "manual", "late_delivery"])
def test_sales_still_releases_the_other_holds(make_user, reason):
    order = _held(reason)
    approve_order(order_id=order.pk, actor=make_user("Sales"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED


@pytest.mark.parametrize("reason", CREDIT_HOLDS)
def test_a_forged_approve_from_sales_is_403_and_changes_nothing(client_for, reason):
    order = _held(reason)
    client = client_for("Sales")
    response = client.post(reverse("orders:approve", args=[order.pk]), **HTMX)
    assert response.status_code == 403
    assert "Only Accounting or a manager" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ON_HOLD
    response = client.post(reverse("orders:approve", args=[order.pk]))
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ON_HOLD


@pytest.mark.parametrize("role, reason, may_approve", [
    ("Sales", "credit_limit", False),
    ("Sales", "prepayment_missing", False),
    ("Sales", "new_customer", True),
    ("Accounting", "credit_limit", True),
    ("Manager", "prepayment_missing", True),
])
def test_the_order_page_offers_approve_only_to_who_may_release(client_for, role, reason,
                                                               may_approve):
    order = _held(reason)
    response = client_for(role).get(reverse("orders:detail", args=[order.pk]))
    actions = [name for name, _label, _style in response.context["actions"]]
    assert ("approve" in actions) == may_approve and "reject" in actions
    body = response.content.decode()
    assert ('data-action="approve"' in body) == may_approve
    assert (reverse("orders:approve", args=[order.pk]) in body) == may_approve


def test_the_admin_approve_action_refuses_a_credit_hold_to_staff_sales(client, make_user):
    staff = make_user("Sales", username="sales_staff", is_staff=True)
    client.force_login(staff)
    order = _held("credit_limit")
    response = client.post(reverse("admin:orders_order_changelist"),
                           {"action": "approve_selected", "_selected_action": [order.pk]},
                           follow=True)
    assert "Only Accounting or a manager may release it." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ON_HOLD
