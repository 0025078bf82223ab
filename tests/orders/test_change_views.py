# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""The edit screen (GET, htmx preview, save), the partial cancel button and
PATCH /api/v1/orders/{number}: the same input, the same field errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import StockLevel
from orders.inputs import OrderChange
from orders.models import EventKind, Order, OrderStatus
from orders.services import change_order, preview_order_change
from tests.factories.fulfillment import reserved_order, shelved_product
from tests.factories.inventory import WarehouseFactory
from tests.orders.capture_support import api, api_token, catalogue, order_body  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def order() -> Order:
    warehouse = WarehouseFactory(code="MAIN")
    kept = shelved_product(warehouse, 10, sku="KEEP-1", unit_price=Decimal("10.00"))
    shelved_product(warehouse, 10, sku="ADD-1", unit_price=Decimal("5.00"))
    return reserved_order([(kept, 2)])


def _form(order: Order, **overrides) -> dict:
    line = order.lines.get()
    address = order.shipping_address
    data = {"version": preview_order_change(order_id=order.pk, data=OrderChange(),
                                            actor=None).version,
            "lines.0.line": str(line.pk), "lines.0.quantity": "2",
            "lines.1.sku": "", "lines.1.quantity": "",
            "requested_carrier": order.requested_carrier, "notes": order.notes,
            "promised_delivery_date": ""}
    for prefix in ("shipping_address", "billing_address"):
        for key in ("name", "line1", "line2", "postal_code", "city", "region", "country"):
            data[f"{prefix}.{key}"] = (address if prefix == "shipping_address"
                                       else order.billing_address).get(key, "")
    data.update(overrides)
    return data


def test_the_order_page_offers_edit_to_sales_and_customer_service(client_for, order):
    for role in ("Sales", "Customer service"):
        client = client_for(role)
        page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
        assert reverse("orders:edit", args=[order.pk]) in page
        assert reverse("orders:cancel_remaining", args=[order.pk, order.lines.get().pk]) in page
        client.logout()
    warehouse = client_for("Warehouse")
    page = warehouse.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert reverse("orders:edit", args=[order.pk]) not in page
    assert warehouse.get(reverse("orders:edit", args=[order.pk])).status_code == 403


def test_the_edit_screen_shows_the_lines_and_addresses(client_for, order):
    page = client_for("Customer service").get(reverse("orders:edit", args=[order.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="lines.0.quantity"' in html and "KEEP-1" in html
    assert f'value="{order.shipping_address["city"]}"' in html
    assert "Nothing changed yet." in html


def test_the_preview_shows_stock_price_tax_and_payment_and_writes_nothing(client_for, order):
    client = client_for("Customer service")
    response = client.post(reverse("orders:edit_preview", args=[order.pk]),
                           _form(order, **{"lines.1.sku": "ADD-1", "lines.1.quantity": "3"}),
                           HTTP_HX_REQUEST="true", HTTP_HX_TARGET="change-effect")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="change-effect"' in html
    assert "<html" not in html  # the partial only
    assert 'data-effect="ADD-1"' in html and "3 to reserve" in html
    assert 'data-tax-delta="3.00"' in html and 'data-gross-delta="18.00"' in html
    assert 'data-payment="none"' in html
    assert order.lines.count() == 1
    assert StockLevel.objects.get(product__sku="ADD-1").reserved == 0


def test_the_preview_lists_field_errors(client_for, order):
    response = client_for("Sales").post(
        reverse("orders:edit_preview", args=[order.pk]),
        _form(order, **{"lines.0.quantity": "-2", "lines.1.sku": "NOPE",
                        "lines.1.quantity": "1", "promised_delivery_date": "31/12/2026"}),
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="change-effect")
    html = response.content.decode()
    assert "Enter a whole number from 0 to 100000." in html
    assert "Use the format YYYY-MM-DD." in html


def test_saving_applies_the_change_and_returns_to_the_order(client_for, order, mailoutbox):
    client = client_for("Customer service")
    response = client.post(reverse("orders:edit_save", args=[order.pk]), _form(
        order, **{"lines.1.sku": "ADD-1", "lines.1.quantity": "1",
                  "shipping_address.line1": "9 Phone Street"}))
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    order.refresh_from_db()
    assert order.lines.count() == 2 and order.shipping_address["line1"] == "9 Phone Street"
    event = order.events.get(kind=EventKind.CHANGED)
    assert event.actor == client.user
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Order changed: added 1 x ADD-1; shipping address." in page


def test_saving_a_stale_screen_is_409_and_shows_the_order_as_it_is(client_for, order):
    client = client_for("Sales")
    stale = _form(order, **{"lines.0.quantity": "1"})
    change_order(order_id=order.pk, actor=None, data=OrderChange.parse(
        {"lines": [{"line": order.lines.get().pk, "quantity": 3}]}))
    response = client.post(reverse("orders:edit_save", args=[order.pk]), stale)
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed while you were editing it" in html
    assert order.lines.get().quantity == 3


def test_saving_bad_input_is_422_with_the_error_at_the_input(client_for, order):
    client = client_for("Sales")
    response = client.post(reverse("orders:edit_save", args=[order.pk]), _form(
        order, **{"shipping_address.city": ""}))
    assert response.status_code == 422
    html = response.content.decode()
    # Under the city input, as the input path names it.
    assert 'name="shipping_address.city" value="" maxlength="100" required>\n  ' \
        '<p class="error">This field is required.</p>' in html
    response = client.post(reverse("orders:edit_save", args=[order.pk]), _form(
        order, **{"lines.1.sku": "NOPE", "lines.1.quantity": "1"}))
    assert response.status_code == 422
    assert "Unknown SKU NOPE." in response.content.decode()
    assert order.lines.count() == 1


def test_cancel_remaining_button(client_for, order, mailoutbox):
    client = client_for("Customer service")
    line = order.lines.get()
    response = client.post(reverse("orders:cancel_remaining", args=[order.pk, line.pk]),
                           HTTP_HX_REQUEST="true", HTTP_HX_TARGET="order-panel")
    # Nothing is picked: everything goes, which is the whole order: cancel it instead.
    assert response.status_code == 400 and "cancel the order instead" in \
        response.content.decode()
    assert client.post(reverse("orders:cancel_remaining", args=[order.pk, 999999]),
                       HTTP_HX_REQUEST="true").status_code == 400


def test_a_shipped_or_unknown_order_cannot_be_opened_for_editing(client_for):
    client = client_for("Sales")
    assert client.get(reverse("orders:edit", args=[999999])).status_code == 404


def test_patch_changes_an_order_placed_with_the_token(api, client, catalogue):
    number = api.post("/orders", order_body()).json()["number"]
    order = Order.objects.get(number=number)
    line = order.lines.get(sku="MUG-1")
    response = client.patch(f"/api/v1/orders/{number}", data={
        "lines": [{"line": line.pk, "quantity": 5}], "notes": "Call before delivery"},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api.token}")
    assert response.status_code == 200, response.content
    data = response.json()
    assert [(li["sku"], li["quantity"]) for li in data["lines"]] == [("MUG-1", 5), ("TEA-1", 3)]
    assert data["lines"][0]["id"] == line.pk
    order.refresh_from_db()
    assert order.notes == "Call before delivery"
    assert order.status in (OrderStatus.PLACED, OrderStatus.ON_HOLD)


def test_patch_bad_input_is_422_or_400_with_field_errors(api, client, catalogue):
    number = api.post("/orders", order_body()).json()["number"]
    headers = {"content_type": "application/json",
               "HTTP_AUTHORIZATION": f"Bearer {api.token}"}
    response = client.patch(f"/api/v1/orders/{number}", data={
        "lines": [{"sku": "MUG-1", "quantity": -1}], "promised_delivery_date": "tomorrow"},
        **headers)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert "lines.0.quantity" in errors and "promised_delivery_date" in errors
    response = client.patch(f"/api/v1/orders/{number}", data={
        "lines": [{"sku": "NOPE", "quantity": 1}]}, **headers)
    assert response.status_code == 400
    assert response.json()["errors"] == {"lines.0.sku": ["Unknown SKU NOPE."]}
    assert client.patch("/api/v1/orders/SO-NOPE", data={"notes": "x"},
                        **headers).status_code == 404


def test_patch_with_a_stale_version_is_409(api, client, catalogue):
    number = api.post("/orders", order_body()).json()["number"]
    response = client.patch(f"/api/v1/orders/{number}", data={
        "version": "0" * 32, "notes": "x"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}")
    assert response.status_code == 409
    assert "changed while you were editing" in response.json()["detail"]
