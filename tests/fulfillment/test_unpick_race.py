"""Unpicking and packing the same line at once, on real PostgreSQL with real
threads: one wins, the other is refused with a 409 and a clear message, and
the stock stays reserved for the order either way."""

from __future__ import annotations

import pytest

from fulfillment import services
from fulfillment.inputs import Packing, Unpick
from fulfillment.models import PickListLine, Shipment
from inventory.models import StockLevel
from oms.lib.errors import Conflict, NotAllowed
from tests.factories.fulfillment import picked_order, shelved_product
from tests.factories.inventory import WarehouseFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_unpick_and_pack_of_the_same_line_exactly_one_wins():
    warehouse = WarehouseFactory(code="MAIN")
    product = shelved_product(warehouse, 100, bin_code="A-1")
    outcomes = {"packed": 0, "unpicked": 0}
    for _attempt in range(6):
        order, _pick_list = picked_order([(product, 2)], warehouse)
        pick_line = PickListLine.objects.get(order=order)
        results = run_together(*[
            lambda line=pick_line: services.unpick(pick_line_id=line.pk,
                                                   data=Unpick(quantity=2), actor=None),
            lambda o=order: services.pack(order_id=o.pk, warehouse_id=warehouse.pk,
                                          data=Packing.parse(package_type="box", weight="1"),
                                          actor=None)])
        unpicked, packed = results
        pick_line.refresh_from_db()
        if isinstance(unpicked, Exception):
            assert isinstance(unpicked, Conflict) and unpicked.status == 409
            assert "already packed: it can no longer be unpicked" in unpicked.message
            assert isinstance(packed, Shipment) and packed.lines.get().quantity == 2
            assert pick_line.quantity_picked == 2 and pick_line.shipment_id == packed.pk
            outcomes["packed"] += 1
        else:
            assert isinstance(packed, NotAllowed) and packed.status == 409
            assert "Nothing of" in packed.message and "was picked" in packed.message
            assert pick_line.status == "cancelled" and pick_line.shipment_id is None
            assert not Shipment.objects.filter(order=order).exists()
            outcomes["unpicked"] += 1
    # Neither path moves stock: every order's units stay reserved.
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (100, 12)
    assert sum(outcomes.values()) == 6
