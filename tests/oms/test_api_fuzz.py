"""The JSON API's contract under fuzzing: schemathesis generates valid and
invalid requests from the OpenAPI schema and sends them to a live server on
the test database; every answer must be declared, match its schema, and never
be a server error. Explicit absurd inputs (huge numbers, NUL characters,
broken percent-encoding and unicode) answer 4xx with the error body.

Deterministic: Hypothesis is derandomized (its seed comes from the test), so
a failure repeats on every run; schemathesis prints a `curl` reproduction.
"""

from __future__ import annotations

import http.client
import json
import os
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from fulfillment import services as fulfillment_services
from fulfillment.models import Shipment
from oms.api import create_api_token
from oms.models import ApiScope
from tests.factories.fulfillment import CarrierFactory, CarrierServiceFactory, packed_order
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock

# Rules of the request validation no schema states: a date from today on.
UNSTATED_RULES = {"promised_delivery_date"}
CARRIER = "COLISSIMO"
TRACKING = "6A12345678901"
# Per operation and generation mode (valid, invalid): under a minute in all;
# API_FUZZ_EXAMPLES=500 for a deeper search.
EXAMPLES_PER_MODE = int(os.environ.get("API_FUZZ_EXAMPLES", "60"))


@pytest.fixture
def api_token(transactional_db, settings) -> str:
    """A token with every scope, for carrier COLISSIMO; products with stock
    and a shipment handed over to the carrier two days ago."""
    settings.API_RATE_LIMIT_PER_MINUTE = 0  # the fuzzer sends hundreds of requests
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


def test_api_contract(live_server, api_token):
    """Each operation, with valid (positive) and invalid (negative) requests:
    every check of schemathesis passes (no server error, declared status and
    content type, body matching the response schema, invalid requests refused,
    valid ones accepted). All failures are collected, so one run names every
    broken operation."""
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {api_token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    for operation in operations:
        # Placing or changing an order and a carrier's scan have business
        # rules no schema states (known SKUs, stock, a scan after the
        # handover, an order that moved on): a valid body may be refused
        # there by the service (400/409/422, with the error body), never by
        # the request validation the schema describes.
        business_rules = operation.method in ("post", "patch")
        for mode in GenerationMode:
            failure = _fuzz(operation, mode, headers, business_rules=business_rules)
            if failure:
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert not failures, "\n\n".join(failures)


def _fuzz(operation: Any, mode: GenerationMode, headers: dict, *, business_rules: bool
          ) -> str | None:
    excluded = [positive_data_acceptance] if business_rules else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(max_examples=EXAMPLES_PER_MODE, derandomize=True, database=None,
                         deadline=None, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    def check(case):
        # An invalid case may leave out the required Authorization header:
        # then it is sent without the token and must be refused.
        sent = headers
        if mode is GenerationMode.NEGATIVE and "Authorization" not in (case.headers or {}):
            sent = {}
        response = case.call(headers=sent)
        case.validate_response(response, excluded_checks=excluded, headers=sent)
        if business_rules and mode is GenerationMode.POSITIVE and response.status_code == 422:
            # The request validation's refusal: the schema let through what it refuses.
            error = response.json()
            unstated = set(error["errors"]) <= UNSTATED_RULES
            assert error["detail"] != "Invalid request." or unstated, (
                f"Schema-valid request refused by validation: {response.text}\n"
                f"{case.as_curl_command(headers={'Authorization': 'Bearer ...'})}")

    try:
        check()
    except (Exception, FailureGroup) as exc:  # reported with the others
        return str(exc)
    return None


ORDER = {
    "currency": "EUR",
    "customer": {"email": "fuzz@example.com", "name": "Fuzz"},
    "lines": [{"sku": "FUZZ-1", "quantity": 1}],
    "shipping_address": {"name": "Fuzz", "line1": "1 rue de la Paix", "postal_code": "75002",
                         "city": "Paris", "country": "FR"},
}
EVENTS = f"/api/v1/shipments/{TRACKING}/events"


def _order(**changes: Any) -> bytes:
    return json.dumps({**ORDER, **changes}).encode()  # NUL and surrogates as \u escapes


ABSURD = [
    ("GET", "/api/v1/products?offset=1" + "0" * 30, None),
    ("GET", "/api/v1/products?limit=" + "9" * 40, None),
    ("GET", "/api/v1/products?offset=-1", None),
    ("GET", "/api/v1/products?q=a%00b", None),
    ("GET", "/api/v1/products?q=%ED%A0%80", None),  # a lone surrogate, percent-encoded
    ("GET", "/api/v1/products?q=%FF", None),  # not UTF-8
    ("GET", "/api/v1/products?q=%ZZ%", None),  # not percent-encoding
    ("GET", "/api/v1/products?colour=red", None),
    ("GET", "/api/v1/products/FUZZ%001", None),
    ("GET", "/api/v1/products/%ED%A0%80", None),
    ("GET", "/api/v1/products/" + "X" * 65, None),
    ("GET", "/api/v1/stock?sku=FUZZ-1&sku=%00", None),
    ("GET", "/api/v1/stock?" + "&".join(["sku=X"] * 201), None),
    ("GET", "/api/v1/stock?sku=%ZZ", None),
    ("GET", "/api/v1/orders/A%00B", None),
    ("GET", "/api/v1/orders/" + "9" * 100, None),
    ("POST", f"/api/v1/shipments/{TRACKING}%00/events", b'{"status": "delivered"}'),
    ("POST", EVENTS, json.dumps({"status": "delivered", "description": "a\x00b"}).encode()),
    ("POST", EVENTS, json.dumps({"status": "in_transit", "description": "\ud800"}).encode()),
    ("POST", EVENTS, b'{"status": "in_transit", "occurred_at": "99999-01-01T00:00:00Z"}'),
    ("POST", EVENTS, b'{"status": "in_transit", "occurred_at": "' + b"9" * 50 + b'"}'),
    ("POST", EVENTS, b"\xff\xfe not json"),
    ("POST", EVENTS, b'{"status": "in_transit", "description": "\xed\xa0\x80"}'),  # not UTF-8
    ("POST", "/api/v1/orders", _order(customer={"email": "a\x00@example.com", "name": "A"})),
    ("POST", "/api/v1/orders", _order(lines=[{"sku": "FUZZ-1\x00", "quantity": 1}])),
    ("POST", "/api/v1/orders", _order(customer={"email": "a@example.com", "name": "\udfff"})),
    ("POST", "/api/v1/orders", _order(lines=[{"sku": "FUZZ-1", "quantity": 10**30}])),
    ("POST", "/api/v1/orders", _order(notes="x\x00" * 10, currency="E\x00R")),
    ("POST", "/api/v1/orders", _order(shipping_address={**ORDER["shipping_address"],
                                                        "city": "\x00"})),
]


@pytest.mark.parametrize(("method", "url", "body"), ABSURD)
def test_absurd_requests_are_refused_with_the_error_body(live_server, api_token, method, url,
                                                         body):
    # http.client sends the URL as written (requests would repair its encoding).
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.request(method, url, body=body, headers={
            "Authorization": f"Bearer {api_token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    assert 400 <= response.status < 500, (response.status, content[:500])
    assert response.getheader("Content-Type") == "application/json; charset=utf-8"
    error = json.loads(content)
    assert isinstance(error["detail"], str)
    assert isinstance(error["errors"], dict)
