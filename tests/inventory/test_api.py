"""inventory.api: reserve, confirm, release, consume, expire, availability."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import api
from inventory.models import Reservation, StockLevel, StockMovement
from oms.lib.errors import ApplicationError, Conflict
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.inventory.conftest import snapshot


def level(product, warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def hold(order_id, *pairs, minutes=None):
    """pairs: (product, quantity); order line ids are order_id * 100 + n."""
    return api.reserve(
        order_id=order_id,
        lines=[api.LineRequest(order_line_id=order_id * 100 + n, product_id=p.pk, quantity=q)
               for n, (p, q) in enumerate(pairs)],
        hold_minutes=minutes, actor_id=None)


def test_reserve_holds_stock_with_default_expiry(product, warehouse, settings):
    settings.RESERVATION_HOLD_MINUTES = 45
    stock(product, warehouse, 10)
    before = timezone.now()
    infos = hold(1, (product, 4))
    assert len(infos) == 1
    info = infos[0]
    assert (info.order_line_id, info.product_id, info.warehouse_id, info.quantity, info.kind) \
        == (100, product.pk, warehouse.pk, 4, "hold")
    assert before + timedelta(minutes=45) <= info.expires_at
    assert info.expires_at <= timezone.now() + timedelta(minutes=45)
    assert (level(product, warehouse).on_hand, level(product, warehouse).reserved) == (10, 4)


def test_reserve_uses_explicit_hold_minutes(product, warehouse):
    stock(product, warehouse, 10)
    info = hold(1, (product, 1), minutes=5)[0]
    assert info.expires_at <= timezone.now() + timedelta(minutes=5)


def test_reserve_prefers_a_warehouse_that_serves_the_whole_line(product, warehouse,
                                                                second_warehouse):
    stock(product, warehouse, 3)
    stock(product, second_warehouse, 8)
    infos = hold(1, (product, 5))
    assert [(i.warehouse_id, i.quantity) for i in infos] == [(second_warehouse.pk, 5)]


def test_reserve_keeps_an_order_in_one_warehouse_when_it_can(warehouse, second_warehouse):
    a, b = ProductFactory(), ProductFactory()
    stock(a, warehouse, 5)
    stock(a, second_warehouse, 9)
    stock(b, warehouse, 20)
    stock(b, second_warehouse, 2)
    infos = hold(1, (b, 2), (a, 4))
    assert {i.warehouse_id for i in infos} == {warehouse.pk}


def test_reserve_splits_a_line_over_warehouses_when_no_single_one_can(product, warehouse,
                                                                     second_warehouse):
    stock(product, warehouse, 3)
    stock(product, second_warehouse, 4)
    infos = hold(1, (product, 6))
    assert sorted((i.warehouse_id, i.quantity) for i in infos) == [
        (warehouse.pk, 2), (second_warehouse.pk, 4)]
    assert sum(i.quantity for i in infos) == 6


def test_reserve_ignores_closed_warehouses(product, warehouse):
    closed = WarehouseFactory(code="OLD")
    stock(product, closed, 50)
    closed.is_active = False
    closed.save()
    stock(product, warehouse, 1)
    with pytest.raises(api.InsufficientStock):
        hold(1, (product, 2))


def test_insufficient_stock_reserves_nothing_for_any_line(warehouse):
    plenty, scarce = ProductFactory(sku="PLENTY"), ProductFactory(sku="SCARCE")
    stock(plenty, warehouse, 100)
    stock(scarce, warehouse, 2)
    before = snapshot()
    with pytest.raises(api.InsufficientStock) as excinfo:
        hold(1, (plenty, 10), (scarce, 3))
    error = excinfo.value
    assert error.status == 409
    assert error.shortages == [api.Shortage(product_id=scarce.pk, sku="SCARCE", requested=3,
                                            available=2)]
    assert "SCARCE" in error.message
    assert snapshot() == before


def test_two_lines_of_the_same_product_count_together(product, warehouse):
    stock(product, warehouse, 5)
    with pytest.raises(api.InsufficientStock) as excinfo:
        hold(1, (product, 3), (product, 3))
    assert excinfo.value.shortages[0].requested == 6
    assert level(product, warehouse).reserved == 0


def test_product_without_any_stock_level_is_short(product):
    with pytest.raises(api.InsufficientStock) as excinfo:
        hold(1, (product, 1))
    assert excinfo.value.shortages[0].available == 0


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True])
def test_reserve_refuses_non_positive_quantities(product, warehouse, quantity):
    stock(product, warehouse, 5)
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        api.reserve(order_id=1, lines=[api.LineRequest(1, product.pk, quantity)],
                    hold_minutes=None, actor_id=None)
    assert not isinstance(excinfo.value, api.InsufficientStock)
    assert "quantity" in excinfo.value.field_errors
    assert snapshot() == before


def test_reserve_refuses_unknown_and_inactive_products(product, warehouse):
    stock(product, warehouse, 5)
    retired = ProductFactory(is_active=False)
    stock(retired, warehouse, 5)
    before = snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        api.reserve(order_id=1, lines=[api.LineRequest(1, product.pk, 1),
                                       api.LineRequest(2, 999_999, 1)],
                    hold_minutes=None, actor_id=None)
    assert "product" in excinfo.value.field_errors
    with pytest.raises(ApplicationError, match="not sold any more"):
        hold(2, (product, 1), (retired, 1))
    with pytest.raises(ApplicationError):
        api.reserve(order_id=3, lines=[], hold_minutes=None, actor_id=None)
    assert snapshot() == before


def test_confirm_turns_holds_into_firm_reservations(product, warehouse):
    stock(product, warehouse, 5)
    hold(1, (product, 2))
    hold(2, (product, 1))
    api.confirm(order_id=1, actor_id=None)
    firm = Reservation.objects.get(order_id=1)
    assert (firm.kind, firm.status, firm.expires_at) == ("firm", "active", None)
    assert Reservation.objects.get(order_id=2).kind == "hold"
    assert level(product, warehouse).reserved == 3


def test_confirm_after_the_hold_lapsed_is_a_conflict(product, warehouse):
    stock(product, warehouse, 5)
    hold(1, (product, 2), minutes=1)
    api.expire_lapsed_holds(now=timezone.now() + timedelta(minutes=2))
    with pytest.raises(Conflict):
        api.confirm(order_id=1, actor_id=None)
    assert Reservation.objects.get(order_id=1).status == "expired"


def test_release_gives_back_holds_and_firm_reservations(product, warehouse):
    stock(product, warehouse, 10)
    hold(1, (product, 2), (product, 3))
    api.confirm(order_id=1, actor_id=None)
    hold(2, (product, 4))
    assert api.release(order_id=1, reason="Customer cancelled", actor_id=None) == 2
    assert level(product, warehouse).reserved == 4
    assert set(Reservation.objects.filter(order_id=1).values_list("status", flat=True)) == {
        "released"}
    assert api.release(order_id=1, reason="again", actor_id=None) == 0
    assert level(product, warehouse).reserved == 4


def test_consume_ships_firm_stock_and_writes_shipment_movement(product, warehouse, make_user):
    user = make_user("Warehouse")
    stock(product, warehouse, 10)
    hold(1, (product, 3))
    api.confirm(order_id=1, actor_id=None)
    api.consume(order_id=1, warehouse_id=warehouse.pk, actor_id=user.pk, reference="SHP-1")
    lvl = level(product, warehouse)
    assert (lvl.on_hand, lvl.reserved) == (7, 0)
    movement = StockMovement.objects.get(kind="shipment")
    assert (movement.quantity, movement.reference, movement.actor_id) == (-3, "SHP-1", user.pk)
    assert Reservation.objects.get(order_id=1).status == "consumed"


def test_consume_only_the_given_warehouse(product, warehouse, second_warehouse):
    stock(product, warehouse, 3)
    stock(product, second_warehouse, 4)
    hold(1, (product, 6))
    api.confirm(order_id=1, actor_id=None)
    api.consume(order_id=1, warehouse_id=second_warehouse.pk, actor_id=None, reference="S")
    assert level(product, second_warehouse).on_hand == 0
    assert (level(product, warehouse).on_hand, level(product, warehouse).reserved) == (3, 2)


def test_consume_a_short_pick_ships_what_left_and_releases_the_rest(product, warehouse):
    other = ProductFactory()
    stock(product, warehouse, 10)
    stock(other, warehouse, 4)
    hold(1, (product, 5), (other, 2))
    api.confirm(order_id=1, actor_id=None)

    api.consume(order_id=1, warehouse_id=warehouse.pk, actor_id=None, reference="S",
                shipped={100: 3})  # line 101 (other) was not found at all

    assert (level(product, warehouse).on_hand, level(product, warehouse).reserved) == (7, 0)
    assert (level(other, warehouse).on_hand, level(other, warehouse).reserved) == (4, 0)
    assert list(StockMovement.objects.filter(kind="shipment").values_list(
        "product_id", "quantity")) == [(product.pk, -3)]
    assert sorted(Reservation.objects.filter(order_id=1).values_list(
        "order_line_id", "status", "quantity", "status_reason")) == [
        (100, "consumed", 3, "S"), (100, "released", 2, "short pick"),
        (101, "released", 2, "short pick")]


def test_consume_with_everything_shipped_is_the_plain_consume(product, warehouse):
    stock(product, warehouse, 10)
    hold(1, (product, 4))
    api.confirm(order_id=1, actor_id=None)
    api.consume(order_id=1, warehouse_id=None, actor_id=None, reference="S",
                shipped={100: 4})
    assert (level(product, warehouse).on_hand, level(product, warehouse).reserved) == (6, 0)
    assert list(Reservation.objects.filter(order_id=1).values_list("status", "quantity")) \
        == [("consumed", 4)]


@pytest.mark.parametrize("shipped", [{100: 5}, {100: -1}, {100: 2, 999: 1}])
def test_consume_refuses_shipping_more_than_reserved(product, warehouse, shipped):
    stock(product, warehouse, 10)
    hold(1, (product, 4))
    api.confirm(order_id=1, actor_id=None)
    before = snapshot()
    with pytest.raises(ApplicationError) as refused:
        api.consume(order_id=1, warehouse_id=None, actor_id=None, reference="S",
                    shipped=shipped)
    assert "shipped" in refused.value.field_errors
    assert snapshot() == before


def test_consume_refuses_unconfirmed_holds(product, warehouse):
    stock(product, warehouse, 5)
    hold(1, (product, 2))
    before = snapshot()
    with pytest.raises(Conflict):
        api.consume(order_id=1, warehouse_id=None, actor_id=None, reference="S")
    assert snapshot() == before


def test_expire_releases_exactly_the_lapsed_holds_in_one_statement(
        warehouse, second_warehouse, django_assert_num_queries):
    a, b = ProductFactory(), ProductFactory()
    stock(a, warehouse, 20)
    stock(b, second_warehouse, 20)
    hold(1, (a, 2), (b, 3), minutes=10)       # lapses
    hold(2, (a, 4), minutes=10)               # lapses
    hold(3, (a, 1), minutes=120)              # still within its hour
    hold(4, (b, 5), minutes=10)
    api.confirm(order_id=4, actor_id=None)    # firm: never expires
    later = timezone.now() + timedelta(minutes=30)

    with django_assert_num_queries(1):
        expired_orders = api.expire_lapsed_holds(now=later)

    assert expired_orders == [1, 2]
    statuses = dict(Reservation.objects.values_list("order_id", "status").distinct())
    assert statuses == {1: "expired", 2: "expired", 3: "active", 4: "active"}
    assert level(a, warehouse).reserved == 1
    assert level(b, second_warehouse).reserved == 5
    assert api.expire_lapsed_holds(now=later) == []


def test_expire_respects_the_limit(product, warehouse):
    stock(product, warehouse, 20)
    for order_id in range(1, 6):
        hold(order_id, (product, 1), minutes=1)
    later = timezone.now() + timedelta(minutes=5)
    first = api.expire_lapsed_holds(now=later, limit=2)
    assert len(first) == 2
    assert level(product, warehouse).reserved == 3
    rest = api.expire_lapsed_holds(now=later)
    assert sorted(first + rest) == [1, 2, 3, 4, 5]
    assert level(product, warehouse).reserved == 0


def test_availability_per_active_warehouse(product, warehouse, second_warehouse):
    other = ProductFactory()
    stock(product, warehouse, 10)
    stock(product, second_warehouse, 2)
    hold(1, (product, 4))
    result = api.availability(product_ids=[product.pk, other.pk])
    assert result[other.pk] == []
    by_code = {w.code: w for w in result[product.pk]}
    assert (by_code["LYO"].on_hand, by_code["LYO"].reserved, by_code["LYO"].available) == (
        10, 4, 6)
    assert by_code["PAR"].available == 2


def test_products_by_sku_returns_known_skus_only(db):
    p = ProductFactory(sku="MUG-01", name="Mug")
    result = api.products_by_sku(skus=["MUG-01", "NOPE"])
    assert list(result) == ["MUG-01"]
    info = result["MUG-01"]
    assert (info.id, info.name, info.unit_price, info.tax_rate, info.is_active) == (
        p.pk, "Mug", p.unit_price, p.tax_rate, True)


def test_return_stock_puts_goods_back_with_a_return_movement(product, warehouse):
    stock(product, warehouse, 1)
    api.return_stock(product_id=product.pk, warehouse_id=warehouse.pk, quantity=2,
                     reference="RMA-9", actor_id=None)
    assert level(product, warehouse).on_hand == 3
    assert StockMovement.objects.get(kind="return").quantity == 2
    with pytest.raises(ApplicationError):
        api.return_stock(product_id=product.pk, warehouse_id=warehouse.pk, quantity=0,
                         reference="x", actor_id=None)
