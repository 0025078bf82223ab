"""Pre-orders: a product ordered before its release date is accepted without
stock, waits, and is allocated once stock is in and the date is reached."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse

from inventory.models import Reservation, StockLevel
from orders.models import OrderStatus
from orders.services import allocate_backorders, allocate_waiting, approve_order
from tests.factories.customers import CustomerFactory
from tests.factories.inventory import ProductFactory, WarehouseFactory, stock
from tests.factories.orders import make_order, stocked_product
from tests.inventory.test_ledger import assert_ledger_holds

pytestmark = pytest.mark.django_db(transaction=True)

RELEASE = date(2031, 3, 1)
BEFORE = datetime(2031, 2, 10, 10, 0, tzinfo=ZoneInfo("UTC"))
AFTER = datetime(2031, 3, 2, 10, 0, tzinfo=ZoneInfo("UTC"))


def test_preorder_without_stock_is_accepted_for_any_customer_and_waits(mailoutbox):
    product = ProductFactory(sku="GAME-2", available_from=RELEASE)
    customer = CustomerFactory(accepts_backorder=False)
    with time_machine.travel(BEFORE, tick=False):
        order = make_order(customer=customer, lines=[(product, 2)])
        line = order.lines.get()
        assert line.available_from == RELEASE and line.is_preorder
        assert order.status == OrderStatus.PLACED
        assert order.hold_expires_at is None  # nothing to lapse
        assert order.events.get(to_status="placed").data["preorder"] == [
            {"sku": "GAME-2", "available_from": "2031-03-01"}]
        assert approve_order(order_id=order.pk, actor=None).status == OrderStatus.BACKORDERED
    assert not Reservation.objects.filter(order_id=order.pk).exists()


def test_ordered_on_or_after_the_date_is_an_ordinary_line():
    product = stocked_product(5, available_from=RELEASE)
    with time_machine.travel(datetime(2031, 3, 1, 9, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        order = make_order(lines=[(product, 2)])
    assert order.lines.get().available_from is None
    assert Reservation.objects.get(order_id=order.pk).quantity == 2


def test_preorder_is_not_allocated_before_the_date_even_with_stock():
    warehouse = WarehouseFactory(code="MAIN")
    product = ProductFactory(available_from=RELEASE)
    with time_machine.travel(BEFORE, tick=False):
        order = make_order(lines=[(product, 2)])
        approve_order(order_id=order.pk, actor=None)
        stock(product, warehouse, 10)  # delivered early, for the launch
        with transaction.atomic():
            assert allocate_waiting(product_ids=[product.pk], actor=None) == 0
        assert allocate_backorders() == 0
    assert order.lines.get().backordered_quantity == 2
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED
    assert StockLevel.objects.get(product=product).reserved == 0
    with time_machine.travel(AFTER, tick=False):
        assert allocate_backorders() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED
    assert_ledger_holds([product], [warehouse])


def test_the_emailed_preorder_promise_is_kept_when_stock_arrives_after_the_date(mailoutbox):
    """The received e-mail says 'pre-order, available from 1 mars 2031' (the
    customer's language); once the date has passed and stock arrives, the line
    is allocated (firm stock) and the customer is told it is confirmed."""
    warehouse = WarehouseFactory(code="MAIN")
    product = ProductFactory(sku="GAME-3", available_from=RELEASE)
    customer = CustomerFactory(preferred_language="fr")
    with time_machine.travel(BEFORE, tick=False):
        order = make_order(customer=customer, lines=[(product, 3)])
        approve_order(order_id=order.pk, actor=None)
    received = mailoutbox[0]
    assert "1 mars 2031" in received.body
    assert "1 mars 2031" in received.alternatives[0][0]
    with time_machine.travel(AFTER, tick=False):
        stock(product, warehouse, 3)
        with transaction.atomic():  # what a goods receipt calls with its products
            assert allocate_waiting(product_ids=[product.pk], actor=None) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED
    line = order.lines.get()
    firm = Reservation.objects.get(order_line_id=line.pk, status="active")
    assert (firm.kind, firm.quantity) == ("firm", 3)
    assert line.backordered_quantity == 0
    assert mailoutbox[-1].subject == f"Votre commande {order.number} est confirmée"
    assert_ledger_holds([product], [warehouse])


def test_order_page_and_entry_form_say_preorder(client_for):
    product = ProductFactory(sku="GAME-4", available_from=RELEASE)
    with time_machine.travel(BEFORE, tick=False):
        order = make_order(lines=[(product, 1)])
        client = client_for("Sales")
        page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
        entry = client.post(reverse("orders:entry_lines"),
                            {"line_sku": ["GAME-4"], "line_qty": ["1"]}).content.decode()
    assert "pre-order, available from 1 March 2031" in page
    assert "pre-order, available from 1 March 2031" in entry
    assert "refused unless the customer accepts backorders" not in entry


def test_a_promised_date_before_the_release_date_is_refused():
    from oms.lib.errors import ApplicationError
    from orders.models import Order

    product = ProductFactory(sku="GAME-5", available_from=RELEASE)
    with time_machine.travel(BEFORE, tick=False), pytest.raises(ApplicationError) as excinfo:
        make_order(lines=[(product, 1)], promised_delivery_date=date(2031, 2, 20))
    assert "available from 1 March 2031" in excinfo.value.field_errors[
        "promised_delivery_date"][0]
    assert not Order.objects.exists()
    with time_machine.travel(BEFORE, tick=False):
        make_order(lines=[(product, 1)], promised_delivery_date=date(2031, 3, 5))


def test_the_other_lines_of_a_preorder_are_held_and_reserved_at_once():
    product = ProductFactory(sku="GAME-6", available_from=RELEASE)
    lamp = stocked_product(5, sku="LAMP-6")
    customer = CustomerFactory(ship_complete=False)
    with time_machine.travel(BEFORE, tick=False):
        order = make_order(customer=customer, lines=[(product, 1), (lamp, 2)])
        assert Reservation.objects.get(order_id=order.pk).quantity == 2  # the lamp is held
        assert order.hold_expires_at is not None
        order = approve_order(order_id=order.pk, actor=None)
    assert order.status == OrderStatus.RESERVED  # the lamp may ship; the game follows
    waiting = dict(order.lines.values_list("sku", "backordered_quantity"))
    assert waiting == {"GAME-6": 1, "LAMP-6": 0}
    firm = Reservation.objects.get(order_id=order.pk, status="active")
    assert (firm.product_id, firm.kind, firm.quantity) == (lamp.pk, "firm", 2)
