"""Races of counts and transfers with orders reserving the same SKU, on real
PostgreSQL connections (threads released together by a Barrier)."""

from __future__ import annotations

import pytest

from inventory import api
from inventory.counts import CountEntry, StartCount, confirm_count, enter_count, start_count
from inventory.models import StockLevel
from inventory.transfers import TransferStock, transfer_stock
from oms.lib.errors import ApplicationError
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.inventory.test_concurrency import buy
from tests.inventory.test_ledger import assert_ledger_holds
from tests.threads import run_together

ROUNDS = 6


@pytest.mark.django_db(transaction=True)
def test_count_confirmed_while_an_order_reserves_never_oversells():
    warehouse = WarehouseFactory(code="CNT")
    outcomes = set()
    for round_ in range(ROUNDS):
        product = ProductFactory(sku=f"RACE-COUNT-{round_}")
        stock(product, warehouse, 10)
        count = start_count(StartCount.parse({"warehouse": warehouse.pk}), actor=None)
        # The shelf really holds 3; the order wants 5 of the 10 the system believes in.
        enter_count(CountEntry.parse({"sku": product.sku, "quantity": 3}), count_id=count.pk,
                    actor=None)
        results = run_together(*[
            buy(1000 + round_, (product.pk, 5), linger=0.05 * (round_ % 2)),
            lambda count_id=count.pk: confirm_count(count_id=count_id, actor=None),
        ])
        reserved, counted = results
        unexpected = [r for r in results if isinstance(r, Exception)
                      and not isinstance(r, api.InsufficientStock | ApplicationError)]
        assert unexpected == []
        # Exactly one wins: the order first (count refused, below reserved) or
        # the count first (the order finds only 3).
        assert isinstance(reserved, Exception) != isinstance(counted, Exception)
        level = StockLevel.objects.get(product=product, warehouse=warehouse)
        if isinstance(counted, Exception):
            assert counted.code == "below_reserved"
            assert (level.on_hand, level.reserved) == (10, 5)
            outcomes.add("order first")
        else:
            assert isinstance(reserved, api.InsufficientStock)
            assert (level.on_hand, level.reserved) == (3, 0)
            outcomes.add("count first")
        assert 0 <= level.reserved <= level.on_hand
        assert_ledger_holds([product], [warehouse])
    assert outcomes  # at least one ordering ran; each asserts its own result


@pytest.mark.django_db(transaction=True)
def test_transfer_racing_buyers_moves_only_what_they_leave():
    source, target = WarehouseFactory(code="SRC"), WarehouseFactory(code="DST")
    product = ProductFactory(sku="RACE-TRANSFER")
    stock(product, source, 10)

    def move():
        return transfer_stock(TransferStock.parse({
            "product": product.pk, "from_warehouse": source.pk, "to_warehouse": target.pk,
            "quantity": 6}), actor=None)

    results = run_together(*[move] + [buy(order_id, (product.pk, 2))
                                     for order_id in range(1, 5)])
    unexpected = [r for r in results if isinstance(r, Exception)
                  and not isinstance(r, api.InsufficientStock | ApplicationError)]
    assert unexpected == []
    src = StockLevel.objects.get(product=product, warehouse=source)
    assert 0 <= src.reserved <= src.on_hand
    moved = 0 if isinstance(results[0], Exception) else 6
    assert src.on_hand == 10 - moved
    # A buyer after the transfer may reserve the moved units where they now are.
    dst = StockLevel.objects.filter(product=product, warehouse=target).first()
    dst_reserved = dst.reserved if dst else 0
    assert 0 <= dst_reserved <= (dst.on_hand if dst else 0)
    assert src.reserved + dst_reserved == 2 * sum(1 for r in results[1:] if isinstance(r, list))
    assert src.reserved + moved <= 10
    assert_ledger_holds([product], [source, target])
