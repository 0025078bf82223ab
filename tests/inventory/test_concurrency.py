"""Races on real PostgreSQL: threads with their own connections, released
together by a Barrier."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from inventory import api
from inventory.models import Reservation, StockLevel
from oms.lib.errors import Conflict
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.threads import run_together

BUYERS = 50




def buy(order_id: int, *pairs: tuple[int, int], linger: float = 0.0):
    def work():
        with transaction.atomic():
            infos = api.reserve(
                order_id=order_id,
                lines=[api.LineRequest(order_line_id=order_id * 10 + n, product_id=pid,
                                       quantity=qty)
                       for n, (pid, qty) in enumerate(pairs)],
                hold_minutes=None, actor_id=None)
            # Keep the row locks a moment so the transactions really overlap.
            time.sleep(linger)
            return infos
    return work


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_for_the_last_ten_units_hold_exactly_ten():
    product = ProductFactory(sku="LAST-TEN")
    warehouse = WarehouseFactory(code="RACE")
    stock(product, warehouse, 10)

    started = time.monotonic()
    results = run_together(*[buy(order_id, (product.pk, 1)) for order_id in range(1, BUYERS + 1)])
    elapsed = time.monotonic() - started

    winners = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, api.InsufficientStock)]
    unexpected = [r for r in results if not isinstance(r, list | api.InsufficientStock)]
    assert unexpected == []  # no deadlock, lock timeout or constraint error
    assert len(winners) == 10
    assert len(refused) == BUYERS - 10
    assert all(r.shortages[0].available == 0 for r in refused)
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (10, 10)
    assert sum(Reservation.objects.filter(status="active").values_list(
        "quantity", flat=True)) == 10
    print(f"\n{BUYERS} buyers raced for 10 units in {elapsed:.3f}s")


@pytest.mark.django_db(transaction=True)
def test_buyers_of_mixed_quantities_never_oversell_across_warehouses():
    product = ProductFactory()
    north, south = WarehouseFactory(code="N"), WarehouseFactory(code="S")
    stock(product, north, 6)
    stock(product, south, 7)

    results = run_together(*[buy(order_id, (product.pk, 1 + order_id % 3))
                            for order_id in range(1, BUYERS + 1)])

    assert [r for r in results if not isinstance(r, list | api.InsufficientStock)] == []
    held = sum(info.quantity for r in results if isinstance(r, list) for info in r)
    levels = list(StockLevel.objects.filter(product=product))
    assert held == sum(level.reserved for level in levels)
    assert all(0 <= level.reserved <= level.on_hand for level in levels)
    # Someone always fits while at least one unit is left, so the stock runs dry.
    assert sum(level.on_hand - level.reserved for level in levels) == 0


@pytest.mark.django_db(transaction=True)
def test_two_orders_taking_two_skus_in_opposite_order_never_deadlock():
    warehouse = WarehouseFactory(code="DL")
    first, second = ProductFactory(), ProductFactory()
    stock(first, warehouse, 1000)
    stock(second, warehouse, 1000)

    for round_number in range(20):
        order_a, order_b = 2 * round_number + 1, 2 * round_number + 2
        results = run_together(*[
            buy(order_a, (first.pk, 1), (second.pk, 2), linger=0.02),
            buy(order_b, (second.pk, 3), (first.pk, 4), linger=0.02),
        ])
        assert all(isinstance(r, list) for r in results), results

    levels = {lv.product_id: lv.reserved for lv in StockLevel.objects.all()}
    assert levels == {first.pk: 20 * 5, second.pk: 20 * 5}


@pytest.mark.django_db(transaction=True)
def test_expiry_racing_confirmation_lets_exactly_one_win():
    warehouse = WarehouseFactory(code="EXP")
    product = ProductFactory()
    stock(product, warehouse, 100)
    outcomes = {"confirmed": 0, "expired": 0}

    for order_id in range(1, 16):
        api.reserve(order_id=order_id, lines=[api.LineRequest(order_id, product.pk, 2)],
                    hold_minutes=1, actor_id=None)
        later = timezone.now() + timedelta(minutes=5)

        def approve(order_id=order_id):
            with transaction.atomic():
                api.confirm(order_id=order_id, actor_id=None)
                time.sleep(0.01)
            return "confirmed"

        def sweep(later=later):
            return api.expire_lapsed_holds(now=later)

        confirm_result, sweep_result = run_together(*[approve, sweep])
        reservation = Reservation.objects.get(order_id=order_id)
        if confirm_result == "confirmed":
            assert sweep_result == []
            assert (reservation.kind, reservation.status) == ("firm", "active")
            outcomes["confirmed"] += 1
        else:
            assert isinstance(confirm_result, Conflict), confirm_result
            assert sweep_result == [order_id]
            assert reservation.status == "expired"
            outcomes["expired"] += 1

    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert level.reserved == 2 * outcomes["confirmed"]
    assert sum(outcomes.values()) == 15
    print(f"\nexpiry vs approval: {outcomes}")


@pytest.mark.django_db(transaction=True)
def test_mixed_traffic_keeps_the_books_straight_without_deadlocks():
    """Reserve, confirm, release, ship and the expiry sweep all at once over
    shared stock rows: every call succeeds or is refused cleanly, and reserved
    still equals the active reservations afterwards."""
    from django.db.models import Sum

    from inventory.models import StockMovement

    warehouses = [WarehouseFactory(code="M1"), WarehouseFactory(code="M2")]
    products = [ProductFactory() for _ in range(3)]
    for product in products:
        for warehouse in warehouses:
            stock(product, warehouse, 15)
    # Orders 1..12 start with holds (half of them already lapsed), 13..24 are new.
    for order_id in range(1, 13):
        api.reserve(order_id=order_id,
                    lines=[api.LineRequest(order_id * 10, products[order_id % 3].pk, 2),
                           api.LineRequest(order_id * 10 + 1, products[(order_id + 1) % 3].pk,
                                           1)],
                    hold_minutes=1 if order_id % 2 else 60, actor_id=None)
    later = timezone.now() + timedelta(minutes=5)

    def confirm_and_ship(order_id):
        def work():
            with transaction.atomic():
                api.confirm(order_id=order_id, actor_id=None)
                api.consume(order_id=order_id, warehouse_id=None, actor_id=None,
                            reference=f"S{order_id}")
            return "shipped"
        return work

    def release(order_id):
        return lambda: api.release(order_id=order_id, reason="cancel", actor_id=None)

    workers = []
    for order_id in range(1, 13):
        workers.append(confirm_and_ship(order_id) if order_id % 3 else release(order_id))
    for order_id in range(13, 25):
        workers.append(buy(order_id, (products[order_id % 3].pk, 3),
                           (products[(order_id + 2) % 3].pk, 2), linger=0.005))
    workers += [lambda: api.expire_lapsed_holds(now=later) for _ in range(3)]

    results = run_together(*workers)

    allowed = (list, int, str, api.InsufficientStock, Conflict)
    assert [r for r in results if not isinstance(r, allowed)] == []
    for level in StockLevel.objects.all():
        held = Reservation.objects.filter(
            product_id=level.product_id, warehouse_id=level.warehouse_id,
            status="active").aggregate(total=Sum("quantity"))["total"] or 0
        ledger = StockMovement.objects.filter(
            product_id=level.product_id, warehouse_id=level.warehouse_id).aggregate(
            total=Sum("quantity"))["total"]
        assert level.reserved == held
        assert level.on_hand == ledger
        assert 0 <= level.reserved <= level.on_hand
