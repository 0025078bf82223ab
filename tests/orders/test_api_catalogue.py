# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""Catalogue and stock reads of the JSON API, and the OpenAPI schema."""

from __future__ import annotations

import pytest

from tests.orders.capture_support import api, api_token, catalogue  # noqa: F401

pytestmark = pytest.mark.django_db


def test_products_list_searches_and_pages_without_count(api, catalogue):
    response = api.get("/products", q="mug")
    assert response.status_code == 200
    data = response.json()
    assert [p["sku"] for p in data["items"]] == ["MUG-1"]
    assert data["items"][0]["unit_price"] == "9.99"
    assert data["items"][0]["available"] == 50
    assert data["next_offset"] is None

    page = api.get("/products", limit=1).json()
    assert len(page["items"]) == 1 and page["next_offset"] == 1
    assert [p["sku"] for p in api.get("/products", active="false").json()["items"]] == ["OLD-1"]


def test_product_list_query_count_does_not_grow_with_page_size(api, catalogue,
                                                               django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        assert len(api.get("/products", limit=50).json()["items"]) == 3


def test_product_detail_shows_stock_per_warehouse(api, catalogue):
    data = api.get("/products/MUG-1").json()
    assert data["stock"] == [{"warehouse": "LYO", "on_hand": 50, "reserved": 0, "available": 50}]
    assert api.get("/products/NOPE").status_code == 404


def test_stock_endpoint_reports_availability_after_an_order_holds_stock(api, catalogue):
    from tests.orders.capture_support import order_body

    assert api.post("/orders", order_body()).status_code == 201
    data = api.get("/stock", sku=["MUG-1", "TEA-1", "NOPE"]).json()
    assert {row["sku"]: row["available"] for row in data} == {"MUG-1": 48, "TEA-1": 47}
    assert data[0]["warehouses"][0]["reserved"] == 2


def test_catalogue_needs_a_token(client, catalogue):
    assert client.get("/api/v1/products").status_code == 401


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["version"] == "1.0.0"
    assert "/api/v1/orders" in schema["paths"]
    assert "/api/v1/orders/{number}" in schema["paths"]
    assert "/api/v1/products" in schema["paths"]
    assert "/api/v1/stock" in schema["paths"]
    assert any(s.get("scheme") == "bearer"
               for s in schema["components"]["securitySchemes"].values())
    order_in = schema["components"]["schemas"]["OrderIn"]
    assert order_in.get("additionalProperties") is False


def test_api_docs_page_works_without_internet(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in response.content
    assert b"cdn." not in response.content and b"https://" not in response.content
