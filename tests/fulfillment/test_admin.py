"""Fulfillment admin: every model browsable and searchable; records are
read-only and the actions go through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fulfillment import services
from fulfillment.models import Carrier, PickList, Shipment
from tests.factories.fulfillment import CarrierServiceFactory, packed_order
from tests.factories.inventory import WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(db):
    order, shipment = packed_order(warehouse=WarehouseFactory(code="MAIN"))
    service = CarrierServiceFactory()
    services.ship(shipment_id=shipment.pk,
                  data=services.Handover.parse(carrier_service_id=service.pk,
                                               tracking_number="ADM-1"),
                  actor=None)
    services.record_carrier_event(services.CarrierEvent(
        carrier_code=service.carrier.code, tracking_number="ADM-1", status="in_transit"))
    return order, shipment


@pytest.mark.parametrize("model, filters", [
    ("carrier", {"is_active__exact": "1"}),
    ("carrierservice", {"is_active__exact": "1"}),
    ("picklist", {"status__exact": "done"}),
    ("picklistline", {"status__exact": "picked"}),
    ("shipment", {"status__exact": "shipped"}),
    ("shipmentline", {}),
    ("shipmentevent", {"source__exact": "carrier"}),
])
def test_changelists_filter_search_and_open_detail(client_for, shipped, model, filters):
    order, _shipment = shipped
    client = client_for("Admin")
    url = reverse(f"admin:fulfillment_{model}_changelist")
    assert client.get(url, filters).status_code == 200
    search = "DHL" if model.startswith("carrier") else (
        "ADM-1" if model in ("shipmentevent", "shipmentline") else order.number)
    response = client.get(url, {"q": search})
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1  # DHL is seeded by the data migration


def test_seeded_carriers_exist():
    assert {"COLISSIMO", "DHL", "UPS", "GEODIS"} <= set(Carrier.objects.values_list("code",
                                                                                  flat=True))


def test_shipment_page_is_read_only(client_for, shipped):
    _order, shipment = shipped
    client = client_for("Admin")
    response = client.get(reverse("admin:fulfillment_shipment_change", args=[shipment.pk]))
    assert response.status_code == 200
    assert b'name="status"' not in response.content
    response = client.post(reverse("admin:fulfillment_shipment_change", args=[shipment.pk]),
                           {"status": "delivered"})
    assert response.status_code == 403
    assert Shipment.objects.get(pk=shipment.pk).status == "shipped"


def test_delivery_action_calls_the_service(client_for, shipped):
    _order, shipment = shipped
    client = client_for("Admin")
    response = client.post(reverse("admin:fulfillment_shipment_changelist"),
                           {"action": "confirm_delivery_selected",
                            "_selected_action": [shipment.pk]}, follow=True)
    assert "1 delivery confirmed." in response.content.decode()
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.events.filter(status="delivered", source="staff").exists()


def test_finish_action_refuses_a_done_pick_list(client_for, shipped):
    client = client_for("Admin")
    pick_list = PickList.objects.get()
    response = client.post(reverse("admin:fulfillment_picklist_changelist"),
                           {"action": "complete_selected", "_selected_action": [pick_list.pk]},
                           follow=True)
    assert "is done" in response.content.decode()
