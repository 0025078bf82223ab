"""Unpick: picked units of a line go back to their bin before packing, stay
reserved for the order, and the order's line may then shrink through the
change service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fulfillment import services
from fulfillment.inputs import Unpick
from fulfillment.models import PickListLine
from inventory.models import Reservation, StockLevel, StockMovement
from oms.lib.errors import ApplicationError, Conflict, NotAllowed
from orders.inputs import LineChange, OrderChange
from orders.models import EventKind
from orders.services import change_order, preview_order_change
from tests.factories.fulfillment import packed_order, picked_order, shelved_product
from tests.factories.inventory import WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def main():
    return WarehouseFactory(code="MAIN")


def _reserved(order) -> int:
    return sum(Reservation.objects.filter(order_id=order.pk, status="active")
               .values_list("quantity", flat=True))


def test_a_picked_line_shrinks_only_after_an_unpick(main, make_user):
    product = shelved_product(main, 10, bin_code="A-1", sku="UNP-1")
    order, pick_list = picked_order([(product, 3)], main)
    line = order.lines.get()
    pick_line = PickListLine.objects.get(order_line=line)
    ledger_rows = StockMovement.objects.count()

    with pytest.raises(ApplicationError) as refused:
        change_order(order_id=order.pk, actor=None, data=OrderChange(
            lines=[LineChange(line=line.pk, quantity=1)]))
    message = refused.value.field_errors["lines.0.quantity"][0]
    assert "cannot go below 3" in message and pick_list.number in message
    assert "Unpick" in message

    clerk = make_user("Warehouse")
    services.unpick(pick_line_id=pick_line.pk, data=Unpick(quantity=2, reason="wrong size"),
                    actor=clerk)
    pick_line.refresh_from_db()
    assert (pick_line.quantity, pick_line.quantity_picked, pick_line.status) == (1, 1, "picked")
    # Back on the shelf but still the order's: nothing released, no ledger row.
    assert _reserved(order) == 3
    level = StockLevel.objects.get(product=product, warehouse=main)
    assert (level.on_hand, level.reserved) == (10, 3)
    assert StockMovement.objects.count() == ledger_rows
    event = order.events.get(kind=EventKind.UNPICKED)
    assert event.actor == clerk and event.reason == "wrong size"
    assert event.data == {"pick_list": pick_list.number, "warehouse": "MAIN", "bin": "A-1",
                          "line_id": line.pk, "sku": "UNP-1", "quantity": 2}
    assert "Unpicked on" in event.summary and "2 x UNP-1" in event.summary

    plan = preview_order_change(order_id=order.pk, data=OrderChange(), actor=None)
    assert plan.lines[0].picked == 1 and plan.lines[0].minimum == 1
    change_order(order_id=order.pk, actor=None, data=OrderChange(
        lines=[LineChange(line=line.pk, quantity=1)]))
    level.refresh_from_db()
    assert _reserved(order) == 1 and (level.on_hand, level.reserved) == (10, 1)
    line.refresh_from_db()
    assert line.quantity - line.cancelled_quantity == 1


def test_unpicking_every_unit_cancels_the_pick_line_and_the_units_wait_for_a_new_list(main):
    product = shelved_product(main, 10, bin_code="A-1")
    order, _pick_list = picked_order([(product, 2)], main)
    pick_line = PickListLine.objects.get(order=order)
    services.unpick(pick_line_id=pick_line.pk, data=Unpick(quantity=2), actor=None)
    pick_line.refresh_from_db()
    assert pick_line.status == "cancelled" and pick_line.quantity_picked == 0
    with pytest.raises(NotAllowed, match="Nothing of"):
        services.pack(order_id=order.pk, warehouse_id=main.pk,
                      data=services.Packing.parse(package_type="box", weight="1"), actor=None)
    # Still reserved, so a new pick list takes the units again.
    again = services.create_pick_list(warehouse_id=main.pk, order_ids=[order.pk], actor=None)
    assert again.lines.get().quantity == 2


def test_unpick_refuses_bad_quantities_and_packed_lines_writing_nothing(main):
    product = shelved_product(main, 10)
    order, _pick_list = picked_order([(product, 2)], main)
    pick_line = PickListLine.objects.get(order=order)
    for quantity in ("0", "", "x", "-1"):
        with pytest.raises(ApplicationError) as bad:
            Unpick.parse(quantity=quantity)
        assert "quantity" in bad.value.field_errors
    with pytest.raises(ApplicationError) as too_many:
        services.unpick(pick_line_id=pick_line.pk, data=Unpick(quantity=3), actor=None)
    assert too_many.value.field_errors == {"quantity": ["At most 2."]}
    with pytest.raises(ApplicationError):
        services.unpick(pick_line_id=0, data=Unpick(quantity=1), actor=None)
    pick_line.refresh_from_db()
    assert pick_line.quantity_picked == 2
    assert not order.events.filter(kind=EventKind.UNPICKED).exists()

    packed, _shipment = packed_order([(product, 1)], warehouse=main)
    packed_line = PickListLine.objects.get(order=packed)
    with pytest.raises(Conflict, match="already packed") as conflict:
        services.unpick(pick_line_id=packed_line.pk, data=Unpick(quantity=1), actor=None)
    assert conflict.value.status == 409


def test_pick_list_page_unpicks_a_line_through_htmx(client_for, main):
    client = client_for("Warehouse")
    product = shelved_product(main, 10, bin_code="B-2", sku="UNP-V")
    order, pick_list = picked_order([(product, 3)], main)
    pick_line = PickListLine.objects.get(order=order)
    page = client.get(reverse("fulfillment:pick_list", args=[pick_list.pk]))
    assert f'data-unpick="{pick_line.pk}"' in page.content.decode()
    url = reverse("fulfillment:unpick", args=[pick_list.pk, pick_line.pk])

    bad = client.post(url, {"quantity": "9"}, HTTP_HX_REQUEST="true",
                       HTTP_HX_TARGET="pick-panel")
    assert bad.status_code == 400 and "At most 3." in bad.content.decode()
    done = client.post(url, {"quantity": "1"}, HTTP_HX_REQUEST="true",
                       HTTP_HX_TARGET="pick-panel")
    body = done.content.decode()
    assert done.status_code == 200 and "<html" not in body
    assert f"1 x UNP-V unpicked: back in bin B-2, still reserved for {order.number}." in body
    assert "2/2" in body
    other_list = reverse("fulfillment:unpick", args=[pick_list.pk + 1, pick_line.pk])
    assert client.post(other_list, {"quantity": "1"}).status_code == 404
    viewer = client_for("Sales")
    assert viewer.post(url, {"quantity": "1"}).status_code == 403


def test_order_edit_screen_names_the_pick_list_to_unpick_on(client_for, main):
    product = shelved_product(main, 10)
    order, pick_list = picked_order([(product, 2)], main)
    page = client_for("Sales").get(reverse("orders:edit", args=[order.pk])).content.decode()
    assert "2 units picked: to go lower, unpick them first on" in page
    assert pick_list.number in page
