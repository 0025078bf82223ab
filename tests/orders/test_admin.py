"""Orders admin: browsable, read-only, actions go through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Customer
from orders.models import Order, OrderStatus
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("model", ["order", "orderline", "orderevent"])
def test_changelists_and_detail_pages_open(client_for, model):
    client = client_for("Admin")
    order = make_order()
    url = reverse(f"admin:orders_{model}_changelist")
    response = client.get(url, {"q": order.number})
    assert response.status_code == 200
    assert order.number in response.content.decode()


def test_order_page_is_read_only(client_for):
    client = client_for("Admin")
    order = make_order()
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    assert b'name="status"' not in response.content
    response = client.post(reverse("admin:orders_order_change", args=[order.pk]),
                           {"notes": "edited"})
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).notes == ""


def test_admin_actions_call_the_services_and_report_refusals(client_for):
    client = client_for("Admin")
    placed = make_order()
    to_cancel = make_order()
    url = reverse("admin:orders_order_changelist")
    response = client.post(url, {"action": "approve_selected",
                                 "_selected_action": [placed.pk]}, follow=True)
    assert "1 order approved." in response.content.decode()
    placed = Order.objects.get(pk=placed.pk)
    assert placed.status == OrderStatus.RESERVED
    assert placed.events.filter(to_status="reserved").exists()

    response = client.post(url, {"action": "cancel_selected",
                                 "_selected_action": [to_cancel.pk]}, follow=True)
    assert Order.objects.get(pk=to_cancel.pk).status == OrderStatus.CANCELLED
    response = client.post(url, {"action": "approve_selected",
                                 "_selected_action": [to_cancel.pk]}, follow=True)
    assert "cannot be approved" in response.content.decode()


def test_admin_approve_refuses_an_order_of_a_blocked_customer(client_for):
    client = client_for("Admin")
    order = make_order()
    Customer.objects.filter(pk=order.customer_id).update(standing="blocked")
    response = client.post(reverse("admin:orders_order_changelist"),
                           {"action": "approve_selected", "_selected_action": [order.pk]},
                           follow=True)
    assert "The customer is blocked; the order cannot be approved." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED
    assert not order.events.filter(to_status="reserved").exists()
