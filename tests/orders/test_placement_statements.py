"""What one placement costs the database, statement by statement.

The SQL baseline of the benchmark (docs/benchmarks.md, scenario 1) writes an
order, its lines and holds in about six statements; these tests keep the
service close to that: every row written once, no savepoint, and the stock
rows locked only for the last writes before COMMIT (hot SKUs queue on them).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Reservation, StockLevel
from orders.models import EventKind, OrderStatus
from orders.services import LineInput, PlaceOrder, place_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.orders import stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


def _statements(ctx) -> list[str]:
    return [q["sql"].strip() for q in ctx.captured_queries]


def _label(sql: str) -> str:
    """`INSERT inventory_reservation`, `UPDATE orders_order`, `COMMIT`..."""
    words = sql.replace('"', "").split()
    if words[0] == "INSERT":
        return f"INSERT {words[2]}"
    if words[0] == "UPDATE":
        return f"UPDATE {words[1]}"
    return words[0]


def test_a_placement_writes_each_row_once_and_holds_stock_only_at_the_end():
    customer = CustomerFactory()
    products = [stocked_product(10) for _ in range(3)]

    data = PlaceOrder.parse({"customer": customer,
                             "lines": [LineInput(p.sku, 2) for p in products],
                             "channel": "web", "currency": "EUR",
                             "shipping_address": address_data()})
    with CaptureQueriesContext(connection) as ctx:
        order = place_order(data, actor=None)

    sql = _statements(ctx)
    # What runs after COMMIT here is the test settings' eager Celery sending
    # the e-mail; in production that is a worker's business.
    sql = sql[:sql.index("COMMIT") + 1]
    assert not [s for s in sql if s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    # Inserted as placed: never inserted as a draft and updated afterwards.
    labels = [_label(s) for s in sql]
    assert labels.count("INSERT orders_order") == 1
    assert "UPDATE orders_order" not in labels
    lock = next(i for i, s in enumerate(sql) if "FOR UPDATE OF s" in s)
    assert labels[lock + 1:] == ["INSERT inventory_reservation", "UPDATE inventory_stocklevel",
                                 "INSERT orders_orderevent", "COMMIT"]
    # Before BEGIN, two reads: the products, then the customer with the
    # prices, VAT rates and shipping bands the order needs as columns of its
    # row.
    assert labels[:3] == ["SELECT", "SELECT", "BEGIN"], "\n".join(labels)
    assert "inventory_product" in sql[0]
    assert all(table in sql[1] for table in ("customers_customer", "orders_pricelistentry",
                                             "inventory_vatrate", "orders_shippingrate"))
    assert len(sql) <= 12, "\n".join(labels)

    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED and order.hold_expires_at is not None
    assert list(order.events.exclude(kind=EventKind.EMAIL)
                .values_list("kind", "from_status", "to_status")) == [
        (EventKind.CREATED, "", OrderStatus.DRAFT),
        (EventKind.STATUS_CHANGED, OrderStatus.DRAFT, OrderStatus.PLACED)]
    assert sorted(Reservation.objects.filter(order_id=order.pk)
                  .values_list("quantity", "kind", "expires_at")) == [
        (2, "hold", order.hold_expires_at)] * 3
    assert set(StockLevel.objects.filter(product__in=products)
               .values_list("on_hand", "reserved")) == {(10, 2)}


def test_with_an_approver_the_approval_is_one_more_outbox_insert_before_commit(
        approver_calls):
    customer = CustomerFactory()
    products = [stocked_product(10) for _ in range(3)]

    data = PlaceOrder.parse({"customer": customer,
                             "lines": [LineInput(p.sku, 2) for p in products],
                             "channel": "web", "currency": "EUR",
                             "shipping_address": address_data()})
    with CaptureQueriesContext(connection) as ctx:
        place_order(data, actor=None)

    sql = _statements(ctx)
    sql = sql[:sql.index("COMMIT") + 1]
    labels = [_label(s) for s in sql]
    lock = next(i for i, s in enumerate(sql) if "FOR UPDATE OF s" in s)
    assert labels[lock + 1:] == ["INSERT inventory_reservation", "UPDATE inventory_stocklevel",
                                 "INSERT orders_orderevent", "INSERT oms_outboxmessage",
                                 "COMMIT"]
    assert len(sql) <= 13, "\n".join(labels)  # as above, and the approval
    assert len(approver_calls) == 1


def test_an_edited_vat_or_shipping_rate_applies_to_the_next_placement_at_once(settings):
    from decimal import Decimal

    from inventory.models import VatRate
    from orders.models import ShippingRate

    # A consumer in Belgium past the distance-selling threshold pays the
    # Belgian rate, read from the table by each placement, in its
    # customer read: still 12 statements.
    settings.VAT_DISTANCE_SELLING_THRESHOLD_PASSED = True
    belgium = address_data(country="BE", postal_code="1000", city="Bruxelles")

    def place():
        data = PlaceOrder.parse({
            "customer": CustomerFactory(), "lines": [LineInput(stocked_product(10).sku, 1)],
            "channel": "web", "currency": "EUR", "shipping_address": belgium})
        with CaptureQueriesContext(connection) as ctx:
            order = place_order(data, actor=None)
        sql = _statements(ctx)
        assert len(sql[:sql.index("COMMIT") + 1]) <= 12, "\n".join(map(_label, sql))
        return order

    rate, _created = VatRate.objects.update_or_create(
        country="BE", category="standard", defaults={"rate": Decimal("21.00")})
    first = place()
    assert first.lines.get().tax_rate == Decimal("21.00") and first.shipping_net == 0
    rate.rate = Decimal("22.00")
    rate.save()
    ShippingRate.objects.create(currency="EUR", price=Decimal("6.90"), label="Parcel")
    second = place()
    assert second.lines.get().tax_rate == Decimal("22.00")
    assert second.shipping_net == Decimal("6.90")
    # A bulk update (no model signal) applies as well.
    VatRate.objects.filter(country="BE", category="standard").update(rate=Decimal("23.00"))
    ShippingRate.objects.filter(currency="EUR").update(price=Decimal("7.10"))
    third = place()
    assert third.lines.get().tax_rate == Decimal("23.00")
    assert third.shipping_net == Decimal("7.10")
