"""Stock transfers: available units move between warehouses with two ledger rows."""

from __future__ import annotations

import pytest

from inventory import api
from inventory.models import StockLevel, StockMovement, StockTransfer
from inventory.transfers import TransferStock, transfer_stock
from oms.lib.errors import ApplicationError
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.inventory.conftest import snapshot
from tests.inventory.test_ledger import assert_ledger_holds


def _transfer(product, source, target, quantity, **extra):
    return TransferStock.parse({"product": product.pk, "from_warehouse": source.pk,
                                "to_warehouse": target.pk, "quantity": quantity, **extra})


def test_transfer_moves_units_and_writes_one_row_out_and_one_in(
        product, warehouse, second_warehouse, make_user):
    user = make_user("Warehouse")
    stock(product, warehouse, 10)
    transfer = transfer_stock(_transfer(product, warehouse, second_warehouse, 4,
                                        note="rebalance"), actor=user)
    levels = {lv.warehouse_id: lv for lv in StockLevel.objects.filter(product=product)}
    assert levels[warehouse.pk].on_hand == 6
    assert levels[second_warehouse.pk].on_hand == 4
    rows = list(StockMovement.objects.filter(reference=transfer.reference).order_by("quantity")
                .values_list("warehouse_id", "kind", "quantity", "actor_id"))
    assert rows == [(warehouse.pk, "transfer_out", -4, user.pk),
                    (second_warehouse.pk, "transfer_in", 4, user.pk)]
    assert transfer.reference.startswith("TR-")
    assert_ledger_holds([product], [warehouse, second_warehouse])


def test_transfer_never_moves_reserved_units(product, warehouse, second_warehouse):
    stock(product, warehouse, 10)
    api.reserve(order_id=1, lines=[api.LineRequest(11, product.pk, 7)], hold_minutes=None,
                actor_id=None)
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        transfer_stock(_transfer(product, warehouse, second_warehouse, 4), actor=None)
    assert "Only 3 of" in excinfo.value.field_errors["quantity"][0]
    assert snapshot() == before
    assert StockTransfer.objects.count() == 0
    transfer_stock(_transfer(product, warehouse, second_warehouse, 3), actor=None)
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (7, 7)
    assert_ledger_holds([product], [warehouse, second_warehouse])


def test_transfer_from_a_warehouse_without_stock_is_refused(product, warehouse,
                                                            second_warehouse):
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        transfer_stock(_transfer(product, warehouse, second_warehouse, 1), actor=None)
    assert "quantity" in excinfo.value.field_errors
    assert snapshot() == before


@pytest.mark.parametrize(("change", "field"), [
    ({"quantity": 0}, "quantity"),
    ({"quantity": -2}, "quantity"),
    ({"quantity": "3"}, "quantity"),
    ({"to_warehouse": "same"}, "to_warehouse"),
    ({"product": 0}, "product"),
])
def test_bad_transfer_input_is_a_field_error(product, warehouse, second_warehouse, change,
                                             field):
    stock(product, warehouse, 10)
    data = {"product": product.pk, "from_warehouse": warehouse.pk,
            "to_warehouse": second_warehouse.pk, "quantity": 2, **change}
    if data["to_warehouse"] == "same":
        data["to_warehouse"] = warehouse.pk
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        transfer_stock(TransferStock.parse(data), actor=None)
    assert field in excinfo.value.field_errors
    assert snapshot() == before


def test_unknown_product_or_closed_warehouse_is_refused(product, warehouse, second_warehouse):
    stock(product, warehouse, 10)
    closed = WarehouseFactory(code="OLD", is_active=False)
    before = snapshot()
    with pytest.raises(ApplicationError) as unknown:
        transfer_stock(TransferStock.parse({"product": 999_999, "from_warehouse": warehouse.pk,
                                            "to_warehouse": second_warehouse.pk,
                                            "quantity": 1}), actor=None)
    assert "product" in unknown.value.field_errors
    with pytest.raises(ApplicationError) as shut:
        transfer_stock(_transfer(product, warehouse, closed, 1), actor=None)
    assert "to_warehouse" in shut.value.field_errors
    assert snapshot() == before


def test_transfer_in_then_back_keeps_the_ledger(warehouse, second_warehouse):
    product = ProductFactory()
    stock(product, warehouse, 5)
    transfer_stock(_transfer(product, warehouse, second_warehouse, 5), actor=None)
    transfer_stock(_transfer(product, second_warehouse, warehouse, 2), actor=None)
    assert dict(StockLevel.objects.filter(product=product).values_list(
        "warehouse__code", "on_hand")) == {"LYO": 2, "PAR": 3}
    assert_ledger_holds([product], [warehouse, second_warehouse])
