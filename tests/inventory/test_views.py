"""Back-office pages of the inventory app."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import api
from inventory.models import StockLevel, StockMovement
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.inventory.conftest import snapshot


def test_product_list_searches_sku_and_name(client_for):
    ProductFactory(sku="MUG-RED", name="Red mug")
    ProductFactory(sku="TEA-01", name="Green tea")
    client = client_for("Sales")
    response = client.get(reverse("inventory:product_list"), {"q": "mug"})
    assert response.status_code == 200
    assert b"MUG-RED" in response.content
    assert b"TEA-01" not in response.content
    by_name = client.get(reverse("inventory:product_list"), {"q": "green"})
    assert b"TEA-01" in by_name.content


def test_product_search_as_you_type_answers_the_results_partial(client_for):
    ProductFactory(sku="MUG-RED", name="Red mug")
    client = client_for("Sales")
    response = client.get(reverse("inventory:product_list"), {"q": "MUG"},
                          HTTP_HX_REQUEST="true", HTTP_HX_TARGET="product-results")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="product-results"')
    assert "<html" not in body
    assert "MUG-RED" in body


def test_product_list_shows_totals_and_hides_inactive_by_default(client_for):
    warehouse = WarehouseFactory()
    product = ProductFactory(sku="LAMP")
    stock(product, warehouse, 9)
    api.reserve(order_id=1, lines=[api.LineRequest(1, product.pk, 4)], hold_minutes=None,
                actor_id=None)
    ProductFactory(sku="OLD-LAMP", is_active=False)
    client = client_for("Sales")
    response = client.get(reverse("inventory:product_list"), {"q": "lamp"})
    row = response.context["products"][0]
    assert (row.sku, row.total_on_hand, row.total_reserved, row.total_available) == (
        "LAMP", 9, 4, 5)
    assert b"OLD-LAMP" not in response.content
    everything = client.get(reverse("inventory:product_list"), {"q": "lamp", "active": "all"})
    assert b"OLD-LAMP" in everything.content


def test_product_detail_shows_stock_per_warehouse_and_movements(client_for):
    product = ProductFactory(sku="DESK")
    lyon, paris = WarehouseFactory(code="LYO"), WarehouseFactory(code="PAR")
    stock(product, lyon, 5, reference="PO-1")
    stock(product, paris, 2)
    api.reserve(order_id=7, lines=[api.LineRequest(70, product.pk, 3)], hold_minutes=None,
                actor_id=None)
    client = client_for("Warehouse")
    response = client.get(reverse("inventory:product_detail", args=[product.pk]))
    assert response.status_code == 200
    levels = {lv.warehouse.code: (lv.on_hand, lv.reserved, lv.available)
              for lv in response.context["levels"]}
    assert levels == {"LYO": (5, 3, 2), "PAR": (2, 0, 2)}
    assert response.context["totals"] == {"on_hand": 7, "reserved": 3, "available": 4}
    assert b"PO-1" in response.content
    assert reverse("inventory:adjust").encode() in response.content


def test_product_detail_of_unknown_product_is_404(client_for, db):
    assert client_for("Sales").get(
        reverse("inventory:product_detail", args=[999999])).status_code == 404


def test_stock_list_filters_by_warehouse_and_shows_available(client_for):
    product = ProductFactory(sku="CHAIR")
    lyon, paris = WarehouseFactory(code="LYO"), WarehouseFactory(code="PAR")
    stock(product, lyon, 10)
    stock(product, paris, 4)
    api.reserve(order_id=1, lines=[api.LineRequest(1, product.pk, 6)], hold_minutes=None,
                actor_id=None)
    client = client_for("Warehouse")
    response = client.get(reverse("inventory:stock_list"), {"warehouse": lyon.pk})
    rows = [(lv.warehouse.code, lv.on_hand, lv.reserved, lv.available_qty)
            for lv in response.context["levels"]]
    assert rows == [("LYO", 10, 6, 4)]


def test_stock_list_low_stock_filter(client_for):
    warehouse = WarehouseFactory()
    low, fine = ProductFactory(sku="LOW"), ProductFactory(sku="FINE")
    stock(low, warehouse, 2)
    stock(fine, warehouse, 50)
    StockLevel.objects.filter(product=low).update(reorder_level=5)
    StockLevel.objects.filter(product=fine).update(reorder_level=5)
    response = client_for("Manager").get(reverse("inventory:stock_list"), {"low": "1"})
    assert [lv.product.sku for lv in response.context["levels"]] == ["LOW"]


def test_receipt_form_receives_stock_through_the_service(client_for):
    product = ProductFactory(sku="BOX")
    warehouse = WarehouseFactory(code="LYO")
    client = client_for("Warehouse")
    assert client.get(reverse("inventory:receive"), {"product": product.pk}).status_code == 200
    response = client.post(reverse("inventory:receive"), {
        "sku": "box", "warehouse": warehouse.pk, "quantity": "12", "reference": "PO-9"})
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:product_detail", args=[product.pk])
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 12
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.quantity, movement.reference, movement.actor) == (
        "receipt", 12, "PO-9", client.user)


@pytest.mark.parametrize(("data", "field"), [
    ({"sku": "NOPE", "quantity": "3"}, "sku"),
    ({"sku": "BOX", "quantity": "0"}, "quantity"),
    ({"sku": "BOX", "quantity": "-2"}, "quantity"),
    ({"sku": "BOX", "quantity": "two"}, "quantity"),
    ({"sku": "", "quantity": "3"}, "sku"),
])
def test_receipt_form_shows_field_errors_and_writes_nothing(client_for, data, field):
    ProductFactory(sku="BOX")
    warehouse = WarehouseFactory()
    client = client_for("Warehouse")
    before = snapshot()
    response = client.post(reverse("inventory:receive"), {"warehouse": warehouse.pk, **data})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert b'class="field has-error"' in response.content
    assert snapshot() == before


def test_adjustment_below_reserved_shows_the_service_error_on_quantity(client_for):
    product = ProductFactory(sku="BOX")
    warehouse = WarehouseFactory()
    stock(product, warehouse, 10)
    api.reserve(order_id=1, lines=[api.LineRequest(1, product.pk, 8)], hold_minutes=None,
                actor_id=None)
    client = client_for("Warehouse")
    before = snapshot()
    response = client.post(reverse("inventory:adjust"), {
        "sku": "BOX", "warehouse": warehouse.pk, "quantity": "-5", "reason": "Broken"})
    assert response.status_code == 400
    errors = response.context["form"].errors["quantity"]
    assert "8 are reserved" in errors[0]
    assert snapshot() == before


def test_adjustment_form_adjusts_with_reason(client_for):
    product = ProductFactory(sku="BOX")
    warehouse = WarehouseFactory()
    level = stock(product, warehouse, 10)
    client = client_for("Warehouse")
    form_page = client.get(reverse("inventory:adjust"), {"level": level.pk})
    assert form_page.context["form"].initial == {"sku": "BOX", "warehouse": warehouse.pk}
    response = client.post(reverse("inventory:adjust"), {
        "sku": "BOX", "warehouse": warehouse.pk, "quantity": "-3", "reason": "Broken"})
    assert response.status_code == 302
    level.refresh_from_db()
    assert level.on_hand == 7
    assert StockMovement.objects.filter(kind="adjustment", quantity=-3, reason="Broken").exists()


def test_adjustment_needs_a_reason_and_non_zero_change(client_for):
    ProductFactory(sku="BOX")
    warehouse = WarehouseFactory()
    client = client_for("Warehouse")
    response = client.post(reverse("inventory:adjust"), {
        "sku": "BOX", "warehouse": warehouse.pk, "quantity": "0", "reason": ""})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"quantity", "reason"}


def test_sales_may_look_but_not_receive_or_adjust(client_for, db):
    client = client_for("Sales")
    assert client.get(reverse("inventory:stock_list")).status_code == 200
    assert client.get(reverse("inventory:receive")).status_code == 403
    assert client.post(reverse("inventory:adjust"), {}).status_code == 403


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url_name", ["inventory:product_list", "inventory:stock_list"])
def test_list_pages_do_not_grow_queries_with_rows(client_for, url_name,
                                                  django_assert_max_num_queries):
    warehouses = [WarehouseFactory(), WarehouseFactory()]
    client = client_for("Warehouse")
    url = reverse(url_name)
    for warehouse in warehouses:
        stock(ProductFactory(), warehouse, 3)
    client.get(url)  # warm the session and permission caches
    few = _count_queries(client, url)
    for _ in range(12):
        product = ProductFactory()
        for warehouse in warehouses:
            stock(product, warehouse, 3)
    many = _count_queries(client, url)
    assert many == few, (few, many)
    with django_assert_max_num_queries(8):
        client.get(url)
