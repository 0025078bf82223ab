"""Changing an order before it ships (orders.services.changes): lines,
stock, prices, pick lists, addresses, the event and the customer's e-mail."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fulfillment import services as fulfillment
from fulfillment.models import PickList, PickListLine
from inventory.models import Reservation, StockLevel, Warehouse
from oms.lib.errors import ApplicationError, Conflict, NotAllowed
from orders.inputs import OrderChange
from orders.models import EventKind, Order, OrderLine, OrderStatus
from orders.price_lists import PriceList, PriceListEntry
from orders.services import cancel_line_rest, change_order, preview_order_change
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.fulfillment import (
    CarrierServiceFactory,
    packed_order,
    picked_order,
    reserved_order,
    shelved_product,
)
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tests.factories.orders import make_order
from tests.inventory.test_ledger import assert_ledger_holds

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def warehouse() -> Warehouse:
    return WarehouseFactory(code="MAIN")


def _change(order: Order, **data) -> Order:
    version = preview_order_change(order_id=order.pk, data=OrderChange.parse(data),
                                   actor=None).version
    return change_order(order_id=order.pk, data=OrderChange.parse({**data, "version": version}),
                        actor=None)


def _reserved(order: Order, line: OrderLine) -> int:
    return sum(Reservation.objects.filter(order_id=order.pk, order_line_id=line.pk,
                                          status="active").values_list("quantity", flat=True))


def _ledger(*products, warehouse):
    assert_ledger_holds(products, [warehouse])


def test_added_line_is_reserved_priced_and_mailed(warehouse, mailoutbox):
    kept = shelved_product(warehouse, 10, unit_price=Decimal("10.00"))
    added = shelved_product(warehouse, 10, unit_price=Decimal("5.00"))
    order = reserved_order([(kept, 2)])
    mailoutbox.clear()

    order = _change(order, lines=[{"sku": added.sku, "quantity": 3}])

    line = order.lines.get(sku=added.sku)
    assert (line.quantity, line.unit_price, line.position) == (3, Decimal("5.00"), 2)
    assert _reserved(order, line) == 3
    assert Reservation.objects.get(order_line_id=line.pk).kind == "firm"
    # 2 x 10 + 3 x 5 = 35 net, 20 % tax.
    assert (order.total_net, order.total_gross) == (Decimal("35.00"), Decimal("42.00"))
    event = order.events.get(kind=EventKind.CHANGED)
    assert event.data["lines"] == [{"line_id": line.pk, "sku": added.sku, "name": added.name,
                                    "before": 0, "after": 3, "unit_price": "5.00"}]
    assert event.data["totals"]["before"] == "24.00" and event.data["totals"]["after"] == "42.00"
    assert f"added 3 x {added.sku}" in event.summary and "€42.00" in event.summary
    [mail] = mailoutbox
    assert order.number in mail.subject and "changed" in mail.subject
    assert f"Added: 3 x {added.name} ({added.sku})" in mail.body
    assert "€42.00" in mail.body
    assert order.status == OrderStatus.RESERVED
    _ledger(kept, added, warehouse=warehouse)


def test_the_email_is_in_the_customers_language(warehouse, mailoutbox):
    product = shelved_product(warehouse, 10, unit_price=Decimal("10.00"))
    order = reserved_order([(product, 2)], customer=CustomerFactory(preferred_language="fr"))
    mailoutbox.clear()
    _change(order, lines=[{"line": order.lines.get().pk, "quantity": 3}])
    [mail] = mailoutbox
    assert "36,00" in mail.body  # 3 x 10 + 20 %, in the French way


def test_lower_quantity_releases_stock(warehouse):
    product = shelved_product(warehouse, 10, unit_price=Decimal("10.00"))
    order = reserved_order([(product, 5)])
    line = order.lines.get()

    order = _change(order, lines=[{"line": line.pk, "quantity": 2}])

    line.refresh_from_db()
    assert (line.quantity, line.cancelled_quantity) == (2, 0)
    assert _reserved(order, line) == 2
    assert StockLevel.objects.get(product=product).reserved == 2
    assert order.total_gross == Decimal("24.00")
    _ledger(product, warehouse=warehouse)


def test_removed_line_keeps_its_row_all_cancelled(warehouse):
    kept = shelved_product(warehouse, 10, unit_price=Decimal("10.00"))
    dropped = shelved_product(warehouse, 10, unit_price=Decimal("10.00"))
    order = reserved_order([(kept, 1), (dropped, 4)])
    line = order.lines.get(sku=dropped.sku)

    order = _change(order, lines=[{"line": line.pk, "quantity": 0}])

    line.refresh_from_db()
    assert (line.quantity, line.cancelled_quantity, line.backordered_quantity) == (4, 4, 0)
    assert _reserved(order, line) == 0
    assert order.total_gross == Decimal("12.00")
    assert "removed 4 x" in order.events.get(kind=EventKind.CHANGED).summary
    _ledger(kept, dropped, warehouse=warehouse)


def test_removing_every_line_is_refused(warehouse):
    product = shelved_product(warehouse, 10)
    order = reserved_order([(product, 1)])
    with pytest.raises(ApplicationError) as refused:
        _change(order, lines=[{"line": order.lines.get().pk, "quantity": 0}])
    assert "lines" in refused.value.field_errors


def test_increase_beyond_stock_is_refused_without_backorders(warehouse):
    product = shelved_product(warehouse, 3)
    order = reserved_order([(product, 2)])
    line = order.lines.get()
    with pytest.raises(ApplicationError) as refused:
        _change(order, lines=[{"line": line.pk, "quantity": 5}])
    assert refused.value.field_errors == {
        "lines.0.quantity": [f"Only 1 of {product.sku} available."]}
    line.refresh_from_db()
    assert line.quantity == 2 and StockLevel.objects.get(product=product).reserved == 2
    assert not Order.objects.get(pk=order.pk).events.filter(kind=EventKind.CHANGED).exists()


def test_increase_beyond_stock_waits_whole_for_a_ship_complete_order(warehouse):
    product = shelved_product(warehouse, 3)
    order = reserved_order([(product, 2)], customer=CustomerFactory(accepts_backorder=True),
                           ship_complete=True)
    line = order.lines.get()

    order = _change(order, lines=[{"line": line.pk, "quantity": 5}])

    line.refresh_from_db()
    assert (line.quantity, line.backordered_quantity) == (5, 2)
    assert _reserved(order, line) == 3
    assert order.status == OrderStatus.BACKORDERED
    _ledger(product, warehouse=warehouse)


def test_increase_beyond_stock_ships_what_is_ready_otherwise(warehouse):
    product = shelved_product(warehouse, 3)
    order = reserved_order([(product, 2)], customer=CustomerFactory(accepts_backorder=True),
                           ship_complete=False)
    line = order.lines.get()
    order = _change(order, lines=[{"line": line.pk, "quantity": 5}])
    line.refresh_from_db()
    assert line.backordered_quantity == 2
    assert order.status == OrderStatus.RESERVED


def test_lowering_a_waiting_line_takes_the_waiting_units_first(warehouse):
    product = shelved_product(warehouse, 3)
    order = reserved_order([(product, 2)], customer=CustomerFactory(accepts_backorder=True),
                           ship_complete=True)
    line = order.lines.get()
    order = _change(order, lines=[{"line": line.pk, "quantity": 5}])
    assert order.status == OrderStatus.BACKORDERED

    order = _change(order, lines=[{"line": line.pk, "quantity": 3}])

    line.refresh_from_db()
    assert (line.quantity, line.backordered_quantity) == (3, 0)
    assert _reserved(order, line) == 3
    assert order.status == OrderStatus.RESERVED  # nothing waits any more
    _ledger(product, warehouse=warehouse)


def test_a_line_cannot_go_below_what_is_picked(warehouse):
    product = shelved_product(warehouse, 10, bin_code="A-1")
    order, _pick_list = picked_order([(product, 4)], warehouse)
    line = order.lines.get()
    with pytest.raises(ApplicationError) as refused:
        _change(order, lines=[{"line": line.pk, "quantity": 3}])
    assert "4 units are picked" in refused.value.field_errors["lines.0.quantity"][0]
    assert _reserved(order, line) == 4


def test_lowering_an_order_being_picked_shortens_its_open_pick_line(warehouse):
    product = shelved_product(warehouse, 10, bin_code="A-1")
    order = reserved_order([(product, 5)])
    pick_list = fulfillment.create_pick_list(warehouse_id=warehouse.pk, order_ids=[order.pk],
                                             actor=None)
    fulfillment.confirm_pick(pick_list_id=pick_list.pk,
                             data=fulfillment.PickScan(sku=product.sku, quantity=2), actor=None)
    line = order.lines.get()

    order = _change(order, lines=[{"line": line.pk, "quantity": 3}])

    pick_line = PickListLine.objects.get(pick_list=pick_list)
    assert (pick_line.quantity, pick_line.quantity_picked) == (3, 2)
    assert _reserved(order, line) == 3
    # Down to what is picked: the pick line is done, the list can close.
    order = _change(order, lines=[{"line": line.pk, "quantity": 2}])
    pick_line.refresh_from_db()
    assert (pick_line.quantity, pick_line.status) == (2, PickListLine.Status.PICKED)
    _ledger(product, warehouse=warehouse)


def test_more_units_of_an_order_being_picked_go_onto_its_open_pick_list(warehouse):
    product = shelved_product(warehouse, 10, bin_code="A-1")
    order = reserved_order([(product, 2)])
    pick_list = fulfillment.create_pick_list(warehouse_id=warehouse.pk, order_ids=[order.pk],
                                             actor=None)
    order = _change(order, lines=[{"line": order.lines.get().pk, "quantity": 4}])
    assert PickListLine.objects.get(pick_list=pick_list).quantity == 4
    assert order.status == OrderStatus.PICKING


def test_removing_the_only_listed_line_cancels_the_empty_pick_list(warehouse):
    kept = shelved_product(warehouse, 10, bin_code="A-1")
    listed = shelved_product(warehouse, 10, bin_code="A-2")
    order = reserved_order([(listed, 2)])
    pick_list = fulfillment.create_pick_list(warehouse_id=warehouse.pk, order_ids=[order.pk],
                                             actor=None)
    order = _change(order, lines=[{"sku": kept.sku, "quantity": 1}])
    order = _change(order, lines=[{"line": order.lines.get(sku=listed.sku).pk, "quantity": 0}])
    pick_list.refresh_from_db()
    assert pick_list.lines.get(sku=listed.sku).status == PickListLine.Status.CANCELLED
    assert pick_list.lines.get(sku=kept.sku).quantity == 1
    assert pick_list.status == PickList.Status.OPEN


def test_a_shipped_order_is_not_changed(warehouse):
    order, shipment = packed_order(warehouse=warehouse)
    fulfillment.ship(shipment_id=shipment.pk, data=fulfillment.Handover.parse(
        carrier_service_id=CarrierServiceFactory().pk, tracking_number="T-1"), actor=None)
    with pytest.raises(NotAllowed) as refused:
        _change(order, notes="too late")
    assert "return" in refused.value.message


def test_a_stale_preview_is_refused(warehouse):
    product = shelved_product(warehouse, 10)
    order = reserved_order([(product, 2)])
    line = order.lines.get()
    stale = preview_order_change(order_id=order.pk, data=OrderChange.parse(
        {"lines": [{"line": line.pk, "quantity": 1}]}), actor=None).version
    _change(order, lines=[{"line": line.pk, "quantity": 3}])  # someone else, first
    with pytest.raises(Conflict) as refused:
        change_order(order_id=order.pk, actor=None, data=OrderChange.parse(
            {"version": stale, "lines": [{"line": line.pk, "quantity": 1}]}))
    assert refused.value.status == 409 and "changed while you were editing" in \
        refused.value.message
    line.refresh_from_db()
    assert line.quantity == 3


def test_prices_come_from_the_orders_list_on_the_orders_date(warehouse):
    product = shelved_product(warehouse, 10, unit_price=Decimal("9.00"))
    customer = CustomerFactory()
    kept = shelved_product(warehouse, 10, unit_price=Decimal("10.00"))
    order = reserved_order([(kept, 1)], customer=customer)
    placed = timezone.localdate() - timedelta(days=20)
    Order.objects.filter(pk=order.pk).update(placed_at=timezone.now() - timedelta(days=20))
    # The customer's list of the order's day (since ended), and today's.
    then = PriceList.objects.create(name="Spring", currency="EUR", customer=customer,
                                    valid_from=placed - timedelta(days=5),
                                    valid_until=placed + timedelta(days=5))
    PriceListEntry.objects.create(price_list=then, product=product, unit_price=Decimal("7.00"))
    PriceListEntry.objects.create(price_list=then, product=product, min_quantity=10,
                                  unit_price=Decimal("6.00"))
    now = PriceList.objects.create(name="Summer", currency="EUR", customer=customer,
                                   valid_from=timezone.localdate() - timedelta(days=1))
    PriceListEntry.objects.create(price_list=now, product=product, unit_price=Decimal("8.00"))

    order = _change(Order.objects.get(pk=order.pk), lines=[{"sku": product.sku, "quantity": 2}])
    line = order.lines.get(sku=product.sku)
    assert line.unit_price == Decimal("7.00")
    # A quantity break of that list applies when the quantity reaches it.
    order = _change(order, lines=[{"line": line.pk, "quantity": 10}])
    line.refresh_from_db()
    assert line.unit_price == Decimal("6.00")


def test_bad_input_gets_field_errors_and_changes_nothing(warehouse):
    product = shelved_product(warehouse, 10)
    unpriced = ProductFactory(prices=False)
    order = reserved_order([(product, 2)])
    line = order.lines.get()
    with pytest.raises(ApplicationError) as refused:
        OrderChange.parse({"lines": [{"line": line.pk, "quantity": -1}],
                           "promised_delivery_date": "2026-02-30"})
    assert refused.value.field_errors == {
        "lines.0.quantity": ["Enter a whole number from 0 to 100000."],
        "promised_delivery_date": ["Use the format YYYY-MM-DD."]}
    with pytest.raises(ApplicationError) as refused:
        _change(order, lines=[{"sku": "NOPE-1", "quantity": 1}, {"line": 999999, "quantity": 1}])
    assert refused.value.field_errors == {"lines.0.sku": ["Unknown SKU NOPE-1."],
                                          "lines.1.line": ["This line does not belong to the "
                                                           "order."]}
    with pytest.raises(ApplicationError) as refused:
        _change(order, lines=[{"sku": unpriced.sku, "quantity": 1}])
    assert refused.value.field_errors == {
        "lines.0.sku": [f"{unpriced.sku} has no price in EUR."]}
    with pytest.raises(ApplicationError) as refused:
        _change(order, shipping_address=address_data(country="DE"))
    assert "shipping_address.country" in refused.value.field_errors
    assert not order.events.filter(kind=EventKind.CHANGED).exists()
    assert order.lines.count() == 1 and StockLevel.objects.get(product=product).reserved == 2


def test_address_carrier_date_and_notes_change_with_the_event(warehouse, mailoutbox):
    product = shelved_product(warehouse, 10)
    order = reserved_order([(product, 2)])
    mailoutbox.clear()
    promised = timezone.localdate() + timedelta(days=9)
    new_address = address_data(name="New Name", line1="5 New Street", country="FR")
    order = _change(order, shipping_address=new_address, requested_carrier="UPS",
                    promised_delivery_date=promised.isoformat(), notes="Leave at the door")
    assert order.shipping_address["line1"] == "5 New Street"
    assert (order.requested_carrier, order.promised_delivery_date, order.notes) == (
        "UPS", promised, "Leave at the door")
    event = order.events.get(kind=EventKind.CHANGED)
    assert set(event.data["fields"]) == {"shipping_address", "requested_carrier",
                                         "promised_delivery_date", "notes"}
    assert event.data["fields"]["promised_delivery_date"]["after"] == promised.isoformat()
    assert "Shipping address" in event.summary
    assert "5 New Street" in mailoutbox[0].body and "UPS" in mailoutbox[0].body


def test_a_placed_order_holds_the_added_units_until_its_deadline(warehouse):
    product = shelved_product(warehouse, 10)
    order = make_order(lines=[(product, 1)])
    assert order.status == OrderStatus.PLACED
    order = _change(order, lines=[{"line": order.lines.get().pk, "quantity": 4}])
    holds = Reservation.objects.filter(order_id=order.pk, status="active")
    assert sum(h.quantity for h in holds) == 4
    assert {h.expires_at for h in holds} == {order.hold_expires_at}
    assert all(h.kind == "hold" for h in holds)
    _ledger(product, warehouse=warehouse)


def test_partial_cancel_drops_what_is_not_picked(warehouse, mailoutbox):
    product = shelved_product(warehouse, 10, bin_code="A-1")
    order = reserved_order([(product, 5)])
    pick_list = fulfillment.create_pick_list(warehouse_id=warehouse.pk, order_ids=[order.pk],
                                             actor=None)
    fulfillment.confirm_pick(pick_list_id=pick_list.pk,
                             data=fulfillment.PickScan(sku=product.sku, quantity=2), actor=None)
    line = order.lines.get()
    mailoutbox.clear()

    order = cancel_line_rest(order_id=order.pk, line_id=line.pk, actor=None)

    line.refresh_from_db()
    assert line.quantity == 2 and _reserved(order, line) == 2
    assert PickListLine.objects.get(pick_list=pick_list).status == PickListLine.Status.PICKED
    assert order.total_gross == Decimal("47.76")  # 2 x 19.90 + 20 %
    assert "from 5 to 2" in order.events.get(kind=EventKind.CHANGED).summary
    assert len(mailoutbox) == 1
    with pytest.raises(NotAllowed):
        cancel_line_rest(order_id=order.pk, line_id=line.pk, actor=None)
    _ledger(product, warehouse=warehouse)


def test_preview_writes_nothing_and_says_the_effect(warehouse):
    product = shelved_product(warehouse, 3, unit_price=Decimal("10.00"))
    order = reserved_order([(product, 2)], customer=CustomerFactory(accepts_backorder=True))
    before = (StockLevel.objects.get(product=product).reserved, order.lines.get().quantity)
    plan = preview_order_change(order_id=order.pk, data=OrderChange.parse(
        {"lines": [{"line": order.lines.get().pk, "quantity": 5}]}), actor=None)
    [line] = plan.lines
    assert (line.before, line.after, line.reserve, line.will_wait) == (2, 5, 3, 2)
    assert plan.gross_delta == Decimal("36.00") and plan.tax_delta == Decimal("6.00")
    assert (StockLevel.objects.get(product=product).reserved,
            order.lines.get().quantity) == before


def test_a_change_takes_the_same_statements_for_two_lines_or_eight(warehouse):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    added = shelved_product(warehouse, 100)

    def statements(line_count: int) -> int:
        products = [shelved_product(warehouse, 10) for _n in range(line_count)]
        order = reserved_order([(product, 2) for product in products])
        data = {"lines": [{"line": order.lines.first().pk, "quantity": 1},
                          {"sku": added.sku, "quantity": 1}]}
        version = preview_order_change(order_id=order.pk, data=OrderChange.parse(data),
                                       actor=None).version
        with CaptureQueriesContext(connection) as queries:
            change_order(order_id=order.pk, actor=None,
                         data=OrderChange.parse({**data, "version": version}))
        return len(queries)

    two, eight = statements(2), statements(8)
    # 46 with savepoints, the event, the audit entries, the e-mail row, the
    # payment lookup, the pick lists' update, the VAT and shipping rates (read
    # once: the plan keeps the shipping charge it priced) and the eager e-mail
    # task's reads.
    assert two == eight <= 46, (two, eight)


def test_a_change_is_in_the_audit_trail_field_by_field_with_who_made_it(
        warehouse, django_user_model):
    from oms.models import AuditEntry

    clerk = django_user_model.objects.create_user("clerk-audit")
    product = shelved_product(warehouse, 10)
    order = reserved_order([(product, 3)])
    line = order.lines.get()
    data = {"lines": [{"line": line.pk, "quantity": 2}], "notes": "Call before delivery"}
    version = preview_order_change(order_id=order.pk, data=OrderChange.parse(data),
                                   actor=clerk).version
    change_order(order_id=order.pk, actor=clerk,
                 data=OrderChange.parse({**data, "version": version}))
    rows = {entry.field: (entry.before, entry.after)
            for entry in AuditEntry.objects.filter(object_type="orders.order",
                                                   object_id=order.pk, actor=clerk)}
    assert rows["orders.orderline.quantity"] == (3, 2)
    assert rows["notes"][1] == "Call before delivery"
    assert "total_gross" in rows


def test_the_same_address_again_is_no_change_and_extra_snapshot_keys_stay(warehouse):
    product = shelved_product(warehouse, 10)
    order = reserved_order([(product, 1)])
    snapshot = {**order.shipping_address, "phone": "+33 1 00 00 00 00"}
    Order.objects.filter(pk=order.pk).update(shipping_address=snapshot)
    same = {k: v for k, v in snapshot.items() if k != "phone"}
    order = _change(Order.objects.get(pk=order.pk), shipping_address=same, notes="Gate B")
    assert set(order.events.get(kind=EventKind.CHANGED).data["fields"]) == {"notes"}
    order = _change(order, shipping_address={**same, "line1": "7 Other Street"})
    assert order.shipping_address["phone"] == "+33 1 00 00 00 00"
    assert order.shipping_address["line1"] == "7 Other Street"
