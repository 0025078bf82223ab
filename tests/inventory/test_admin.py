"""Inventory admin: browsable, searchable; stock quantities are read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory import api
from inventory.models import Reservation, StockLevel, StockMovement
from tests.factories.inventory import BinLocationFactory, ProductFactory, WarehouseFactory, stock


@pytest.fixture
def stocked(db):
    product = ProductFactory(sku="ADM-1", name="Admin lamp")
    warehouse = WarehouseFactory(code="ADM")
    BinLocationFactory(product=product, warehouse=warehouse, code="A-01-1")
    stock(product, warehouse, 10, reference="PO-ADMIN")
    api.reserve(order_id=42, lines=[api.LineRequest(420, product.pk, 3)], hold_minutes=None,
                actor_id=None)
    return product, warehouse


@pytest.mark.parametrize("model", ["product", "warehouse", "binlocation", "stocklevel",
                                   "reservation", "stockmovement"])
def test_every_inventory_changelist_lists_searches_and_opens(client_for, stocked, model):
    client = client_for("Admin")
    url = reverse(f"admin:inventory_{model}_changelist")
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    searched = client.get(url, {"q": "ADM"})
    assert searched.status_code == 200
    obj = response.context["cl"].result_list[0]
    detail = client.get(reverse(f"admin:inventory_{model}_change", args=[obj.pk]))
    assert detail.status_code == 200


def test_stock_level_quantities_are_read_only_in_admin(client_for, stocked):
    product, warehouse = stocked
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    client = client_for("Admin")
    url = reverse("admin:inventory_stocklevel_change", args=[level.pk])
    page = client.get(url)
    assert b'name="on_hand"' not in page.content
    assert b'name="reserved"' not in page.content
    assert f"{reverse('inventory:adjust')}?level={level.pk}".encode() in page.content
    client.post(url, {"on_hand": "999", "reserved": "0", "reorder_level": "4"})
    level.refresh_from_db()
    assert (level.on_hand, level.reserved, level.reorder_level) == (10, 3, 4)
    assert client.get(reverse("admin:inventory_stocklevel_add")).status_code == 403


def test_reservations_and_movements_cannot_be_edited_in_admin(client_for, stocked):
    client = client_for("Admin")
    reservation = Reservation.objects.get(order_id=42)
    movement = StockMovement.objects.get()
    client.post(reverse("admin:inventory_reservation_change", args=[reservation.pk]),
                {"status": "released", "quantity": "1"})
    reservation.refresh_from_db()
    assert (reservation.status, reservation.quantity) == ("active", 3)
    assert client.get(reverse("admin:inventory_stockmovement_add")).status_code == 403
    assert client.post(reverse("admin:inventory_stockmovement_delete", args=[movement.pk]),
                       {"post": "yes"}).status_code == 403
    assert StockMovement.objects.filter(pk=movement.pk).exists()
