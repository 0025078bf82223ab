"""The transfer and count pages."""

from __future__ import annotations

from django.urls import reverse

from inventory import api
from inventory.models import StockCount, StockLevel, StockMovement, StockTransfer
from inventory.selectors import count_sheet
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.inventory.conftest import snapshot


def _form(product, source, target, **extra):
    return {"sku": product.sku, "from_warehouse": source.pk, "to_warehouse": target.pk,
            "quantity": 3, "note": "", **extra}


def test_transfer_page_moves_stock_and_lists_it(client_for, product, warehouse,
                                                second_warehouse):
    stock(product, warehouse, 5)
    client = client_for("Warehouse")
    page = client.get(reverse("inventory:transfer"), {"warehouse": warehouse.pk})
    assert page.status_code == 200
    assert page.context["form"].initial["from_warehouse"] == warehouse.pk
    response = client.post(reverse("inventory:transfer"),
                           _form(product, warehouse, second_warehouse), follow=True)
    assert response.status_code == 200
    transfer = StockTransfer.objects.get()
    assert transfer.reference in response.content.decode()
    assert dict(StockLevel.objects.values_list("warehouse__code", "on_hand")) == {
        "LYO": 2, "PAR": 3}


def test_transfer_page_shows_field_errors_and_writes_nothing(client_for, product, warehouse,
                                                              second_warehouse):
    stock(product, warehouse, 5)
    api.reserve(order_id=1, lines=[api.LineRequest(1, product.pk, 4)], hold_minutes=None,
                actor_id=None)
    client = client_for("Warehouse")
    before = snapshot()
    cases = [
        (_form(product, warehouse, warehouse), "to_warehouse"),
        (_form(product, warehouse, second_warehouse, quantity=2), "quantity"),  # 1 available
        (_form(product, warehouse, second_warehouse, quantity=0), "quantity"),
        (_form(product, warehouse, second_warehouse, quantity=-1), "quantity"),
        (_form(product, warehouse, second_warehouse, sku="NO-SUCH"), "sku"),
    ]
    for data, field in cases:
        response = client.post(reverse("inventory:transfer"), data)
        assert response.status_code == 400, data
        assert response.context["form"].errors.get(field), (data, response.context["form"].errors)
    assert snapshot() == before
    assert not StockTransfer.objects.exists()


def test_transfer_and_count_pages_need_their_permission(client_for):
    client = client_for("Sales")
    assert client.get(reverse("inventory:transfer")).status_code == 403
    assert client.get(reverse("inventory:count_list")).status_code == 403
    manager = client_for("Manager")
    assert manager.get(reverse("inventory:count_list")).status_code == 200
    assert manager.post(reverse("inventory:count_start"),
                        {"warehouse": WarehouseFactory().pk}).status_code == 403
    assert not StockCount.objects.exists()


def test_stock_page_links_to_transfer_and_counts(client_for, product, warehouse):
    stock(product, warehouse, 5)
    body = client_for("Warehouse").get(reverse("inventory:stock_list")).content.decode()
    assert reverse("inventory:transfer") in body
    assert reverse("inventory:count_list") in body


def test_count_page_scans_shows_variance_and_confirms(client_for, warehouse):
    product = ProductFactory(sku="CNT-1")
    stock(product, warehouse, 10)
    client = client_for("Warehouse")
    started = client.post(reverse("inventory:count_start"), {"warehouse": warehouse.pk})
    count = StockCount.objects.get()
    assert started.status_code == 302
    enter = reverse("inventory:count_enter", args=[count.pk])
    client.post(enter, {"sku": "cnt-1", "quantity": ""}, HTTP_HX_REQUEST="true")
    partial = client.post(enter, {"sku": "CNT-1", "quantity": "6"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="count-sheet"')
    assert '<span class="badge bad">-3</span>' in body
    line = count_sheet(count_id=count.pk).lines[0]
    assert (line.shown_on_hand, line.counted, line.shown_variance) == (10, 7, -3)
    bad = client.post(enter, {"sku": "NOPE", "quantity": "1"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400
    assert "No product has the SKU NOPE" in bad.content.decode()
    assert bad["HX-Retarget"] == "#count-sheet"
    response = client.post(reverse("inventory:count_confirm", args=[count.pk]), follow=True)
    assert response.status_code == 200
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 7
    assert StockMovement.objects.get(kind="count").quantity == -3


def test_count_below_reserved_shows_the_refusal(client_for, warehouse):
    product = ProductFactory(sku="HELD")
    stock(product, warehouse, 10)
    api.reserve(order_id=1, lines=[api.LineRequest(1, product.pk, 8)], hold_minutes=None,
                actor_id=None)
    client = client_for("Warehouse")
    client.post(reverse("inventory:count_start"), {"warehouse": warehouse.pk})
    count = StockCount.objects.get()
    client.post(reverse("inventory:count_enter", args=[count.pk]), {"sku": "HELD", "quantity": 5})
    page = client.get(reverse("inventory:count", args=[count.pk]))
    assert "8 reserved" in page.content.decode()
    before = snapshot()
    response = client.post(reverse("inventory:count_confirm", args=[count.pk]), follow=True)
    assert "HELD counted 5, 8 reserved" in response.content.decode()
    assert snapshot() == before
