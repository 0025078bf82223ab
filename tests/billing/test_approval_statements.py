"""What the automatic payment approval costs the database.

It runs after every placement commits (a second transaction in the placing
request), so it reads and locks the order once, firms the holds in one
statement and saves only the fields the transition changed.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.services import approve_order_payment
from inventory.models import Reservation
from orders import payments
from orders.models import OrderStatus
from orders.payments import PaymentDetails
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


def test_approving_a_placed_card_order_locks_the_order_once_and_firms_holds_in_one_statement(
        monkeypatch):
    monkeypatch.setattr(payments, "_approver", None)  # place only; approve below
    card = PaymentDetails(method="card", card_number="4242424242424242")
    order = make_order(customer=CustomerFactory(standing="trusted"),
                       lines=[(stocked_product(10), 2), (stocked_product(10), 1)],
                       payment=card)

    with CaptureQueriesContext(connection) as ctx:
        approve_order_payment(order_id=order.pk, payment=card, actor=None)

    sql = [q["sql"].strip() for q in ctx.captured_queries]
    sql = sql[:sql.index("COMMIT") + 1]  # after it: the test settings' eager e-mail
    order_reads = [s for s in sql if s.startswith("SELECT") and 'FROM "orders_order"' in s]
    assert len(order_reads) == 1 and "FOR UPDATE" in order_reads[0]
    # The holds are checked and firmed by one statement, not an aggregate,
    # a lock and an update.
    order_updates = [s for s in sql if s.startswith('UPDATE "orders_order"')]
    assert len(order_updates) == 1
    assert '"number"' not in order_updates[0]  # only what the transition changed
    assert len([s for s in sql if "inventory_reservation" in s]) == 1
    assert len(sql) <= 17, "\n".join(s[:80] for s in sql)

    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED and order.hold_expires_at is None
    assert set(Reservation.objects.filter(order_id=order.pk)
               .values_list("kind", "expires_at")) == {("firm", None)}
