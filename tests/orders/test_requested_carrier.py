# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""The carrier the customer chose reaches the order from every channel (the
shipping screen preselects a matching carrier), and is refused when too long."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from oms.lib.errors import ApplicationError
from orders.models import Order
from orders.services import LineInput, PlaceOrder, place_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.orders import stocked_product
from tests.orders.capture_support import api, api_token, catalogue, order_body, written  # noqa: F401
from tests.orders.test_entry import entry_data

pytestmark = pytest.mark.django_db


def test_the_api_stores_and_answers_the_requested_carrier(api, catalogue):
    response = api.post("/orders", order_body(requested_carrier="  UPS Express "))

    assert response.status_code == 201, response.content
    assert response.json()["requested_carrier"] == "UPS Express"
    assert Order.objects.get().requested_carrier == "UPS Express"
    assert api.get(f"/orders/{response.json()['number']}").json()[
        "requested_carrier"] == "UPS Express"


def test_the_api_refuses_a_carrier_over_100_characters(api, catalogue):
    response = api.post("/orders", order_body(requested_carrier="U" * 101))

    assert response.status_code == 422
    assert "requested_carrier" in response.json()["errors"]
    assert written() == (0, 0)


def test_the_service_refuses_a_carrier_over_100_characters():
    product = stocked_product(5)
    with pytest.raises(ApplicationError) as refused:
        place_order(PlaceOrder.parse({
            "customer": CustomerFactory(), "lines": [LineInput(product.sku, 1)],
            "channel": "phone", "currency": "EUR", "shipping_address": address_data(),
            "requested_carrier": "D" * 101}), actor=None)
    assert "requested_carrier" in refused.value.field_errors
    assert not Order.objects.exists()


def test_order_entry_saves_the_requested_carrier(client_for, catalogue):
    response = client_for("Sales").post(reverse("orders:entry_save"),
                                        entry_data(requested_carrier="DHL"))

    assert response.status_code in (200, 302), response.content
    assert Order.objects.get().requested_carrier == "DHL"


def test_the_csv_import_takes_a_requested_carrier_column(client_for, catalogue,
                                                         django_capture_on_commit_callbacks):
    client = client_for("Sales")
    text = ("order_ref,customer_email,customer_name,sku,quantity,currency,ship_name,"
            "ship_line1,ship_postal_code,ship_city,ship_country,requested_carrier\n"
            "A-1,ada@example.com,Ada,MUG-1,1,EUR,Ada,1 Rue de Rivoli,75001,Paris,FR,GLS\n")
    preview = client.post(reverse("orders:import"),
                          {"file": SimpleUploadedFile("o.csv", text.encode(), "text/csv")})
    assert preview.context["preview"].is_clean
    with django_capture_on_commit_callbacks(execute=True):  # the import runs after commit
        client.post(reverse("orders:import_confirm"), {"ticket": preview.context["ticket"]})

    assert Order.objects.get().requested_carrier == "GLS"
