"""Cycle counts: entries add up, confirming writes one 'count' row per variance."""

from __future__ import annotations

import pytest

from inventory import api
from inventory.counts import (
    CountEntry,
    StartCount,
    cancel_count,
    confirm_count,
    enter_count,
    remove_count_line,
    start_count,
)
from inventory.models import StockCount, StockLevel, StockMovement
from oms.lib.errors import ApplicationError, NotAllowed
from tests.factories.inventory import ProductFactory, stock
from tests.inventory.conftest import snapshot
from tests.inventory.test_ledger import assert_ledger_holds


def _count(warehouse, *entries, actor=None) -> StockCount:
    count = start_count(StartCount.parse({"warehouse": warehouse.pk}), actor=actor)
    for sku, quantity in entries:
        enter_count(CountEntry.parse({"sku": sku, "quantity": quantity}), count_id=count.pk,
                    actor=actor)
    return count


def test_confirm_writes_one_count_row_per_variance(warehouse, make_user):
    user = make_user("Warehouse")
    more, fewer, same = ProductFactory(sku="MORE"), ProductFactory(sku="FEWER"), ProductFactory(
        sku="SAME")
    for product in (more, fewer, same):
        stock(product, warehouse, 10)
    count = _count(warehouse, ("more", 12), ("FEWER", 5), ("FEWER", 2), ("SAME", 10),
                   actor=user)
    confirm_count(count_id=count.pk, actor=user)
    count.refresh_from_db()
    assert count.status == StockCount.Status.CONFIRMED
    assert count.closed_by == user
    rows = dict(StockMovement.objects.filter(kind="count").values_list("product__sku",
                                                                       "quantity"))
    assert rows == {"MORE": 2, "FEWER": -3}
    assert set(StockMovement.objects.filter(kind="count").values_list("reference", flat=True)
               ) == {count.reference}
    assert dict(count.lines.values_list("product__sku", "variance")) == {
        "MORE": 2, "FEWER": -3, "SAME": 0}
    assert dict(StockLevel.objects.values_list("product__sku", "on_hand")) == {
        "MORE": 12, "FEWER": 7, "SAME": 10}
    assert_ledger_holds([more, fewer, same], [warehouse])


def test_counting_a_product_never_received_creates_its_level(warehouse):
    found = ProductFactory(sku="FOUND")
    count = _count(warehouse, ("FOUND", 3))
    confirm_count(count_id=count.pk, actor=None)
    assert StockLevel.objects.get(product=found, warehouse=warehouse).on_hand == 3
    assert_ledger_holds([found], [warehouse])


def test_zero_entry_records_a_product_counted_as_absent(product, warehouse):
    stock(product, warehouse, 4)
    count = _count(warehouse, (product.sku, 0))
    confirm_count(count_id=count.pk, actor=None)
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 0
    assert_ledger_holds([product], [warehouse])


def test_count_below_reserved_is_refused_and_writes_nothing(product, warehouse):
    stock(product, warehouse, 10)
    api.reserve(order_id=7, lines=[api.LineRequest(71, product.pk, 6)], hold_minutes=None,
                actor_id=None)
    count = _count(warehouse, (product.sku, 4))
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        confirm_count(count_id=count.pk, actor=None)
    assert excinfo.value.code == "below_reserved"
    assert f"{product.sku} counted 4, 6 reserved" in excinfo.value.message
    assert snapshot() == before
    count.refresh_from_db()
    assert count.is_open  # corrected and confirmed later
    enter_count(CountEntry.parse({"sku": product.sku, "quantity": 2}), count_id=count.pk,
                actor=None)
    confirm_count(count_id=count.pk, actor=None)
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (6, 6)
    assert_ledger_holds([product], [warehouse])


def test_a_closed_count_takes_no_entries_and_no_second_confirm(product, warehouse):
    stock(product, warehouse, 3)
    count = _count(warehouse, (product.sku, 5))
    confirm_count(count_id=count.pk, actor=None)
    before = snapshot()
    with pytest.raises(NotAllowed):
        confirm_count(count_id=count.pk, actor=None)
    with pytest.raises(NotAllowed):
        enter_count(CountEntry.parse({"sku": product.sku, "quantity": 1}), count_id=count.pk,
                    actor=None)
    assert snapshot() == before
    assert StockMovement.objects.filter(kind="count").count() == 1


def test_cancelled_count_writes_nothing(product, warehouse):
    stock(product, warehouse, 3)
    count = _count(warehouse, (product.sku, 9))
    before = snapshot()
    cancel_count(count_id=count.pk, actor=None)
    assert snapshot() == before
    with pytest.raises(NotAllowed):
        confirm_count(count_id=count.pk, actor=None)


def test_removed_line_is_not_counted(product, warehouse):
    stock(product, warehouse, 3)
    other = ProductFactory()
    count = _count(warehouse, (product.sku, 9), (other.sku, 0))
    remove_count_line(count_id=count.pk, product_id=product.pk, actor=None)
    confirm_count(count_id=count.pk, actor=None)
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 3


@pytest.mark.parametrize(("entry", "field"), [
    ({"sku": "NOPE", "quantity": 1}, "sku"),
    ({"sku": "", "quantity": 1}, "sku"),
    ({"sku": "X", "quantity": -1}, "quantity"),
    ({"sku": "X", "quantity": 1.5}, "quantity"),
])
def test_bad_entry_is_a_field_error(product, warehouse, entry, field):
    count = _count(warehouse)
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        enter_count(CountEntry.parse(entry), count_id=count.pk, actor=None)
    assert field in excinfo.value.field_errors
    assert snapshot() == before
    assert not count.lines.exists()


def test_empty_count_cannot_be_confirmed(warehouse):
    count = _count(warehouse)
    with pytest.raises(ApplicationError):
        confirm_count(count_id=count.pk, actor=None)
    count.refresh_from_db()
    assert count.is_open
