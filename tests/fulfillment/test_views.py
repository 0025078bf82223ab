"""Warehouse screens: permissions, the pick-pack-ship walk over HTTP, htmx
partials, and list query counts that do not grow with the rows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fulfillment import services
from fulfillment.models import PickList, Shipment
from orders.models import OrderStatus
from tests.factories.fulfillment import (
    CarrierServiceFactory,
    packed_order,
    reserved_order,
    shelved_product,
)
from tests.factories.inventory import WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def main():
    return WarehouseFactory(code="MAIN")


def test_warehouse_walks_an_order_from_pick_to_delivery(client_for, main):
    client = client_for("Warehouse")
    product = shelved_product(main, 10, bin_code="A-01-1", sku="WALK-1", is_fragile=True)
    order = reserved_order([(product, 2)])

    page = client.get(reverse("fulfillment:to_pick"), {"warehouse": main.pk})
    assert page.status_code == 200 and order.number in page.content.decode()
    response = client.post(reverse("fulfillment:create_pick_list"),
                           {"warehouse": main.pk, "order": [order.pk]})
    pick_list = PickList.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "fulfillment:pick_list", args=[pick_list.pk])

    scanned = client.post(reverse("fulfillment:scan", args=[pick_list.pk]),
                          {"sku": "walk-1", "quantity": ""},
                          HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pick-panel")
    assert scanned.status_code == 200
    body = scanned.content.decode()
    assert 'id="pick-panel"' in body and "<html" not in body and "1/2" in body
    client.post(reverse("fulfillment:scan", args=[pick_list.pk]), {"sku": "WALK-1"})
    done = client.post(reverse("fulfillment:complete", args=[pick_list.pk]))
    assert done.status_code == 302

    to_pack = client.get(reverse("fulfillment:to_pack"), {"warehouse": main.pk})
    assert order.number in to_pack.content.decode()
    form = client.get(reverse("fulfillment:pack_form", args=[main.pk, order.pk]))
    assert "Fragile" in form.content.decode()
    packed = client.post(reverse("fulfillment:pack", args=[main.pk, order.pk]),
                         {"package_type": "box", "weight": "1.2"})
    shipment = Shipment.objects.get()
    assert packed.url == reverse("fulfillment:shipment", args=[shipment.pk])

    service = CarrierServiceFactory()
    shipped = client.post(reverse("fulfillment:ship", args=[shipment.pk]),
                          {"carrier_service": service.pk, "tracking_number": "WALK-TRK",
                           "shipping_cost": "5.10"})
    assert shipped.status_code == 302
    order.refresh_from_db()
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.INVOICED)
    client.post(reverse("fulfillment:deliver", args=[shipment.pk]), {"note": "signed"})
    shipment.refresh_from_db()
    assert shipment.status == "delivered"


def test_scan_of_an_unknown_sku_answers_the_panel_with_the_error(client_for, main):
    client = client_for("Warehouse")
    order = reserved_order([(shelved_product(main), 1)])
    pick_list = services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk],
                                          actor=None)
    response = client.post(reverse("fulfillment:scan", args=[pick_list.pk]),
                           {"sku": "NOT-THERE", "quantity": "1"},
                           HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pick-panel")
    assert response.status_code == 400
    assert "NOT-THERE" in response.content.decode()


def test_shipping_twice_is_409_with_the_form(client_for, main):
    client = client_for("Warehouse")
    _order, shipment = packed_order(warehouse=main)
    service = CarrierServiceFactory()
    data = {"carrier_service": service.pk, "tracking_number": "TWICE"}
    assert client.post(reverse("fulfillment:ship", args=[shipment.pk]), data).status_code == 302
    again = client.post(reverse("fulfillment:ship", args=[shipment.pk]), data)
    assert again.status_code == 409


def test_bad_ship_form_is_400_with_field_errors(client_for, main):
    client = client_for("Warehouse")
    _order, shipment = packed_order(warehouse=main)
    response = client.post(reverse("fulfillment:ship", args=[shipment.pk]),
                           {"carrier_service": "", "tracking_number": ""})
    assert response.status_code == 400
    assert 'class="form-errors"' in response.content.decode()


@pytest.mark.parametrize("role, name, status", [
    ("Sales", "fulfillment:to_pick", 403),
    ("Customer service", "fulfillment:shipments", 200),
    ("Customer service", "fulfillment:pick_lists", 403),
    ("Manager", "fulfillment:pick_lists", 200),
    ("Manager", "fulfillment:to_pack", 403),
    ("Accounting", "fulfillment:shipments", 403),
])
def test_screens_follow_the_roles(client_for, main, role, name, status):
    assert client_for(role).get(reverse(name)).status_code == status


def test_customer_service_cannot_ship(client_for, main):
    _order, shipment = packed_order(warehouse=main)
    client = client_for("Customer service")
    assert client.get(reverse("fulfillment:shipment", args=[shipment.pk])).status_code == 200
    response = client.post(reverse("fulfillment:ship", args=[shipment.pk]),
                           {"carrier_service": CarrierServiceFactory().pk,
                            "tracking_number": "NOPE"})
    assert response.status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("fulfillment:shipments"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_pdfs_are_served_inline(client_for, main):
    client = client_for("Warehouse")
    _order, shipment = packed_order(warehouse=main)
    pick_list = PickList.objects.get()
    for url in (reverse("fulfillment:pick_list_pdf", args=[pick_list.pk]),
                reverse("fulfillment:packing_slip", args=[shipment.pk]),
                reverse("fulfillment:label", args=[shipment.pk])):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    assert client.get(reverse("fulfillment:label", args=[999999])).status_code == 404


def test_list_screens_do_not_query_per_row(client_for, main, django_assert_max_num_queries):
    client = client_for("Warehouse")
    product = shelved_product(main, 500, bin_code="A-1")
    orders = [reserved_order([(product, 1)]) for _ in range(6)]
    for _ in range(3):
        packed_order([(product, 1)], warehouse=main)
    services.create_pick_list(warehouse_id=main.pk, order_ids=[o.pk for o in orders[3:]],
                              actor=None)
    services.ship(shipment_id=Shipment.objects.first().pk,
                  data=services.Handover.parse(carrier_service_id=CarrierServiceFactory().pk,
                                               tracking_number="Q-1"),
                  actor=None)
    urls = [reverse("fulfillment:to_pick") + f"?warehouse={main.pk}",
            reverse("fulfillment:pick_lists") + "?status=all",
            reverse("fulfillment:to_pack") + f"?warehouse={main.pk}",
            reverse("fulfillment:shipments"),
            reverse("fulfillment:pick_list", args=[PickList.objects.first().pk])]
    for url in urls:
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200
