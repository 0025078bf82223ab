"""Stock receipts and adjustments: ledger row and stock level move together."""

from __future__ import annotations

import pytest

from inventory import api
from inventory.models import StockLevel, StockMovement
from inventory.services import adjust_stock, receive_stock
from oms.lib.errors import ApplicationError
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.inventory.conftest import snapshot


def test_receive_stock_creates_level_and_receipt_movement(product, warehouse, make_user):
    user = make_user("Warehouse")
    movement = receive_stock(product=product, warehouse=warehouse, quantity=12, actor=user,
                             reference="PO-77")
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert level.on_hand == 12
    assert level.reserved == 0
    assert movement.kind == StockMovement.Kind.RECEIPT
    assert movement.quantity == 12
    assert movement.actor == user
    assert movement.reference == "PO-77"


def test_receive_stock_adds_to_existing_level(product, warehouse):
    stock(product, warehouse, 5)
    receive_stock(product=product, warehouse=warehouse, quantity=3, actor=None)
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 8
    assert StockMovement.objects.filter(product=product).count() == 2


@pytest.mark.parametrize("quantity", [0, -3, 2.5, "4", True])
def test_receive_refuses_non_positive_or_non_integer_quantity(product, warehouse, quantity):
    stock(product, warehouse, 5)
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        receive_stock(product=product, warehouse=warehouse, quantity=quantity, actor=None)
    assert "quantity" in excinfo.value.field_errors
    assert snapshot() == before


def test_receive_refuses_unknown_product(warehouse):
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        receive_stock(product=ProductFactory.build(), warehouse=warehouse, quantity=1,
                      actor=None)
    assert "product" in excinfo.value.field_errors
    assert snapshot() == before


def test_receive_refuses_closed_warehouse(product):
    closed = WarehouseFactory(is_active=False)
    with pytest.raises(ApplicationError) as excinfo:
        receive_stock(product=product, warehouse=closed, quantity=1, actor=None)
    assert "warehouse" in excinfo.value.field_errors
    assert not StockLevel.objects.exists()
    assert not StockMovement.objects.exists()


def test_adjust_stock_down_writes_negative_adjustment(product, warehouse, make_user):
    stock(product, warehouse, 10)
    user = make_user("Warehouse")
    movement = adjust_stock(product=product, warehouse=warehouse, quantity=-4,
                            reason="Broken in aisle 3", actor=user)
    assert movement.kind == StockMovement.Kind.ADJUSTMENT
    assert movement.quantity == -4
    assert movement.reason == "Broken in aisle 3"
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 6


def test_adjust_stock_up_after_count(product, warehouse):
    stock(product, warehouse, 10)
    adjust_stock(product=product, warehouse=warehouse, quantity=2, reason="Count", actor=None)
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 12


def test_adjustment_below_reserved_is_refused_and_changes_nothing(product, warehouse):
    stock(product, warehouse, 10)
    api.reserve(order_id=1, lines=[api.LineRequest(1, product.pk, 7)], hold_minutes=None,
                actor_id=None)
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        adjust_stock(product=product, warehouse=warehouse, quantity=-4, reason="Lost",
                     actor=None)
    assert excinfo.value.code == "below_reserved"
    assert "7 are reserved" in excinfo.value.field_errors["quantity"][0]
    assert snapshot() == before


def test_adjustment_down_to_exactly_reserved_is_allowed(product, warehouse):
    stock(product, warehouse, 10)
    api.reserve(order_id=1, lines=[api.LineRequest(1, product.pk, 7)], hold_minutes=None,
                actor_id=None)
    adjust_stock(product=product, warehouse=warehouse, quantity=-3, reason="Lost", actor=None)
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (7, 7)


def test_adjustment_needs_a_reason_and_a_non_zero_quantity(product, warehouse):
    stock(product, warehouse, 10)
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        adjust_stock(product=product, warehouse=warehouse, quantity=-1, reason="  ", actor=None)
    assert "reason" in excinfo.value.field_errors
    with pytest.raises(ApplicationError) as excinfo:
        adjust_stock(product=product, warehouse=warehouse, quantity=0, reason="x", actor=None)
    assert "quantity" in excinfo.value.field_errors
    assert snapshot() == before


def test_adjustment_cannot_make_stock_negative(product, warehouse):
    stock(product, warehouse, 2)
    before = snapshot()
    with pytest.raises(ApplicationError):
        adjust_stock(product=product, warehouse=warehouse, quantity=-3, reason="x", actor=None)
    assert snapshot() == before
