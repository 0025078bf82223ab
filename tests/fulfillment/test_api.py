"""Carrier status updates through the JSON API."""

from __future__ import annotations

import pytest

from fulfillment import services
from fulfillment.models import Shipment
from oms.api import create_api_token
from tests.factories.fulfillment import CarrierServiceFactory, packed_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(db) -> str:
    _token, raw = create_api_token(name="carrier-bridge")
    return raw


@pytest.fixture
def shipped(db):
    _order, shipment = packed_order()
    services.ship(shipment_id=shipment.pk,
                  data=services.Handover.parse(carrier_service_id=CarrierServiceFactory().pk,
                                               tracking_number="1Z999"),
                  actor=None)
    return shipment


def _post(client, tracking: str, body, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/shipments/{tracking}/events", data=body,
                       content_type="application/json", **headers)


def test_delivered_update_confirms_the_delivery_once(client, token, shipped):
    body = {"status": "delivered", "occurred_at": "2026-11-20T10:15:00+00:00",
            "description": "Left with neighbour"}
    response = _post(client, "1Z999", body, token)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "delivered"
    shipment = Shipment.objects.get(pk=shipped.pk)
    assert shipment.status == "delivered"
    assert shipment.delivered_at.isoformat() == "2026-11-20T10:15:00+00:00"
    again = _post(client, "1Z999", body, token)
    assert again.status_code == 200
    assert shipment.events.filter(status="delivered").count() == 1


def test_in_transit_update_is_kept_on_the_history(client, token, shipped):
    response = _post(client, "1Z999", {"status": "in_transit"}, token)
    assert response.status_code == 200
    shipped.refresh_from_db()
    assert shipped.status == "shipped"
    assert shipped.events.get().status == "in_transit"


def test_missing_or_wrong_token_is_401(client, shipped):
    assert _post(client, "1Z999", {"status": "delivered"}, None).status_code == 401
    assert _post(client, "1Z999", {"status": "delivered"}, "oms_nope").status_code == 401
    shipped.refresh_from_db()
    assert shipped.status == "shipped"


@pytest.mark.parametrize("body", [
    {"status": "teleported"},
    {},
    {"status": "delivered", "occurred_at": "yesterday"},
    {"status": "delivered", "price": "1.00"},
])
def test_bad_body_is_422_with_field_errors(client, token, shipped, body):
    response = _post(client, "1Z999", body, token)
    assert response.status_code == 422
    assert response.json()["errors"]
    shipped.refresh_from_db()
    assert shipped.status == "shipped"


def test_unknown_tracking_number_is_404(client, token, shipped):
    response = _post(client, "NOPE", {"status": "delivered"}, token)
    assert response.status_code == 404
    assert response.json()["detail"]


def test_delivered_for_a_parcel_not_shipped_is_409(client, token):
    _order, shipment = packed_order()
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="PRE-LABEL")
    response = _post(client, "PRE-LABEL", {"status": "delivered"}, token)
    assert response.status_code == 409
