"""The JSON API's contract under fuzzing: schemathesis generates valid and
invalid requests from the OpenAPI schema and sends them to a live server on
the test database; every answer must be declared, match its schema, and never
be a server error. Explicit absurd inputs (huge numbers, NUL bytes, broken
unicode) answer 4xx with the error body."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from fulfillment import services as fulfillment_services
from fulfillment.models import Shipment
from oms.api import create_api_token
from oms.models import ApiScope
from tests.factories.fulfillment import CarrierFactory, CarrierServiceFactory, packed_order
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock

CARRIER = "COLISSIMO"
TRACKING = "6A12345678901"


@pytest.fixture
def api_token(transactional_db, settings) -> str:
    settings.API_RATE_LIMIT_PER_MINUTE = 0
    warehouse = WarehouseFactory(code="FUZZ")
    for sku in ("FUZZ-1", "FUZZ-2"):
        stock(ProductFactory(sku=sku), warehouse, 50)
    carrier = CarrierFactory(code=CARRIER, name="Colissimo")
    _order, shipment = packed_order()
    fulfillment_services.ship(
        shipment_id=shipment.pk,
        data=fulfillment_services.Handover.parse(
            carrier_service_id=CarrierServiceFactory(carrier=carrier).pk,
            tracking_number=TRACKING),
        actor=None)
    Shipment.objects.filter(pk=shipment.pk).update(shipped_at=timezone.now() - timedelta(days=2))
    _token, raw = create_api_token(
        name="fuzzer", scopes=[ApiScope.ORDERS, ApiScope.CATALOGUE_READ, ApiScope.CARRIER_EVENTS],
        carrier_code=CARRIER, all_customers=True)
    return raw


EXAMPLES_PER_MODE = 25


def test_api_contract(live_server, api_token):
    """Each operation, with valid (positive) and invalid (negative) requests:
    every check of schemathesis passes. All failures are collected, so one
    run names every broken operation."""
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {api_token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:
        for mode in GenerationMode:
            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(max_examples=EXAMPLES_PER_MODE, derandomize=True, database=None,
                                 deadline=None, phases=[Phase.explicit, Phase.generate],
                                 suppress_health_check=list(HealthCheck), print_blob=True)
            def check(case):
                case.call_and_validate(headers=headers)

            try:
                check()
            except (Exception, FailureGroup) as exc:  # noqa: BLE001  reported together below
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
