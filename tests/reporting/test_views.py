"""The manager dashboard page and its place in the navigation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ProductFactory, make_order

pytestmark = pytest.mark.django_db


def test_a_manager_sees_the_dashboard_figures(client_for):
    product = ProductFactory(sku="MUG", unit_price=Decimal("10.00"), tax_rate=Decimal("20.00"))
    stock(product, WarehouseFactory(code="MAIN"), 100)
    make_order(lines=[(product, 3)])
    client = client_for("Manager")

    response = client.get(reverse("reporting:manager_dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kpi="orders-today">1<' in html
    assert "36.00" in html  # gross revenue today
    assert 'data-status="placed"' in html
    assert reverse("reporting:order_export") in html


def test_the_dashboard_page_is_a_handful_of_queries(client_for, django_assert_max_num_queries):
    client = client_for("Manager")
    # session, user, permissions, the bell's unread count, the report (with
    # this month's margin, the customer ratings' weeks and lowest five) and one
    # query per chart family (five)
    with django_assert_max_num_queries(18):
        assert client.get(reverse("reporting:manager_dashboard")).status_code == 200


@pytest.mark.parametrize("role", ["Sales", "Warehouse", "Customer service", "Accounting"])
def test_other_roles_may_not_open_the_manager_dashboard(client_for, role):
    assert client_for(role).get(reverse("reporting:manager_dashboard")).status_code == 403


def test_managers_reach_it_from_the_home_dashboard(client_for):
    response = client_for("Manager").get(reverse("dashboard"))
    assert reverse("reporting:manager_dashboard") in response.content.decode()


def test_the_order_list_links_to_the_export_with_its_filters(client_for):
    product = ProductFactory(sku="MUG")
    stock(product, WarehouseFactory(code="MAIN"), 10)
    make_order(lines=[(product, 1)])
    response = client_for("Manager").get(reverse("orders:list"), {"status": "placed"})
    html = response.content.decode()
    assert reverse("reporting:order_export") + "?status=placed" in html


def test_the_order_list_offers_the_export_only_to_roles_that_may_export(client_for):
    export = reverse("reporting:order_export")
    assert export not in client_for("Warehouse").get(reverse("orders:list")).content.decode()
    assert export in client_for("Sales").get(reverse("orders:list")).content.decode()


def test_lead_times_read_in_days_hours_or_minutes(client_for):
    from datetime import timedelta

    from orders.models import EventKind, OrderEvent

    product = ProductFactory(sku="MUG")
    stock(product, WarehouseFactory(code="MAIN"), 10)
    order = make_order(lines=[(product, 1)])
    OrderEvent.objects.create(order=order, kind=EventKind.STATUS_CHANGED, to_status="shipped",
                              created_at=order.placed_at + timedelta(minutes=42))
    OrderEvent.objects.create(order=order, kind=EventKind.STATUS_CHANGED, to_status="paid",
                              created_at=order.placed_at + timedelta(days=3, hours=12))

    html = client_for("Manager").get(reverse("reporting:manager_dashboard")).content.decode()

    assert "42 min" in html
    assert "3.5 days" in html
