"""Carrier status updates through the JSON API: only with the carrier
events scope, only for the token's own carrier, only at plausible times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment import services
from fulfillment.models import Shipment
from oms.api import create_api_token
from oms.models import ApiScope
from tests.factories.fulfillment import CarrierFactory, CarrierServiceFactory, packed_order

pytestmark = pytest.mark.django_db

SHIPPED_DAYS_AGO = 2


@pytest.fixture
def carrier(db):
    return CarrierFactory(code="UPS", name="UPS")


@pytest.fixture
def token(carrier) -> str:
    _token, raw = create_api_token(name="carrier-bridge", scopes=[ApiScope.CARRIER_EVENTS],
                                   carrier_code=carrier.code)
    return raw


def _ship(tracking: str, carrier) -> Shipment:
    _order, shipment = packed_order()
    services.ship(shipment_id=shipment.pk,
                  data=services.Handover.parse(
                      carrier_service_id=CarrierServiceFactory(carrier=carrier).pk,
                      tracking_number=tracking),
                  actor=None)
    # Handed over two days ago, so scans "yesterday" are plausible.
    Shipment.objects.filter(pk=shipment.pk).update(
        shipped_at=timezone.now() - timedelta(days=SHIPPED_DAYS_AGO))
    return Shipment.objects.get(pk=shipment.pk)


@pytest.fixture
def shipped(carrier):
    return _ship("1Z999", carrier)


def _post(client, tracking: str, body, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/shipments/{tracking}/events", data=body,
                       content_type="application/json", **headers)


def test_delivered_update_confirms_the_delivery_once(client, token, shipped):
    delivered_at = (shipped.shipped_at + timedelta(days=1)).replace(microsecond=0)
    body = {"status": "delivered", "occurred_at": delivered_at.isoformat(),
            "description": "Left with neighbour"}
    response = _post(client, "1Z999", body, token)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "delivered"
    shipment = Shipment.objects.get(pk=shipped.pk)
    assert shipment.status == "delivered"
    assert shipment.delivered_at == delivered_at
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


def test_delivered_for_a_parcel_not_shipped_is_409(client, token, carrier):
    _order, shipment = packed_order()
    Shipment.objects.filter(pk=shipment.pk).update(
        tracking_number="PRE-LABEL", carrier_service=CarrierServiceFactory(carrier=carrier))
    response = _post(client, "PRE-LABEL", {"status": "delivered"}, token)
    assert response.status_code == 409


def test_a_token_without_the_carrier_scope_is_403(client, shipped):
    _token, raw = create_api_token(name="webshop",
                                   scopes=[ApiScope.ORDERS, ApiScope.CATALOGUE_READ])
    response = _post(client, "1Z999", {"status": "delivered"}, raw)
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "errors"}
    shipped.refresh_from_db()
    assert shipped.status == "shipped"


def test_another_carriers_shipment_answers_like_an_unknown_tracking_number(client, token,
                                                                          shipped):
    other = _ship("DHL-42", CarrierFactory(code="DHL", name="DHL"))
    foreign = _post(client, "DHL-42", {"status": "delivered"}, token)
    unknown = _post(client, "NO-SUCH-PARCEL", {"status": "delivered"}, token)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    other.refresh_from_db()
    assert other.status == "shipped"
    assert not other.events.exists()


@pytest.mark.parametrize("when", ["before_shipping", "in_the_future"])
def test_an_event_outside_handover_to_now_is_422_on_the_time(client, token, shipped, when,
                                                             settings):
    settings.CARRIER_EVENT_CLOCK_SKEW_SECONDS = 300
    occurred_at = (shipped.shipped_at - timedelta(minutes=10) if when == "before_shipping"
                   else timezone.now() + timedelta(minutes=10))
    response = _post(client, "1Z999", {"status": "delivered",
                                       "occurred_at": occurred_at.isoformat()}, token)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"occurred_at"}
    shipped.refresh_from_db()
    assert shipped.status == "shipped"
    assert shipped.delivered_at is None


def test_the_clock_skew_allowance_accepts_a_carrier_slightly_ahead(client, token, shipped,
                                                                  settings):
    settings.CARRIER_EVENT_CLOCK_SKEW_SECONDS = 300
    ahead = timezone.now() + timedelta(minutes=2)
    response = _post(client, "1Z999", {"status": "in_transit",
                                       "occurred_at": ahead.isoformat()}, token)
    assert response.status_code == 200, response.content


def test_an_exception_keeps_its_kind_and_a_kind_needs_the_exception_status(client, token,
                                                                           shipped):
    body = {"status": "exception", "exception_kind": "failed_delivery",
            "description": "Nobody home"}
    assert _post(client, "1Z999", body, token).status_code == 200
    assert Shipment.objects.get(pk=shipped.pk).events.get().exception_kind == "failed_delivery"
    refused = _post(client, "1Z999", {"status": "in_transit", "exception_kind": "delay"}, token)
    assert refused.status_code == 422
    assert "exception_kind" in refused.json()["errors"]
    unknown = _post(client, "1Z999", {"status": "exception", "exception_kind": "lost"}, token)
    assert unknown.status_code == 422
