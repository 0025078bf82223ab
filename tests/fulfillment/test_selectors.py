"""Packing suggestions and the packing view."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fulfillment import selectors
from tests.factories.fulfillment import picked_order, shelved_product
from tests.factories.inventory import WarehouseFactory


@pytest.mark.parametrize("weight, litres, fragile, expected", [
    (2, 5, False, "box"),
    (12, 5, True, "crate"),
    (25, 10, False, "crate"),
    (5, 80, False, "crate"),
    (120, 10, False, "pallet"),
    (10, 400, False, "pallet"),
])
def test_package_is_suggested_by_weight_volume_and_fragility(weight, litres, fragile, expected):
    assert selectors.suggest_package(weight_kg=weight, litres=litres, fragile=fragile) == expected


@pytest.mark.django_db
def test_packing_view_flags_fragile_items_and_estimates_the_weight():
    main = WarehouseFactory(code="MAIN")
    vase = shelved_product(main, sku="VASE", is_fragile=True, weight_kg=Decimal("1.250"))
    book = shelved_product(main, sku="BOOK", weight_kg=Decimal("0.500"))
    order, _pick_list = picked_order([(book, 2), (vase, 2)], main)
    view = selectors.packing_view(order_id=order.pk, warehouse_id=main.pk)
    assert view.has_fragile and not view.still_open
    assert [line["sku"] for line in view.lines] == ["VASE", "BOOK"]  # fragile first
    assert view.total_weight_kg == Decimal("3.500")
    assert view.suggested_package == "box"
