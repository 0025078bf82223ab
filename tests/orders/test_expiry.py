"""expire_orders: lapsed holds -> expired orders, set-based, and its race
with approval on real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Reservation, StockLevel
from oms.lib.errors import ApplicationError
from oms.models import OutboxMessage
from orders.models import EventKind, HoldReason, Order, OrderStatus
from orders.services import approve_order, expire_orders, hold_order
from orders.tasks import expire_reservations
from tests.factories.orders import make_order, stocked_product
from tests.oms.test_outbox import TEST_QUEUE, real_broker  # noqa: F401  a fixture

pytestmark = pytest.mark.django_db(transaction=True)

LATER = timedelta(minutes=61)


def test_lapsed_orders_expire_with_event_email_and_stock_released(mailoutbox):
    product = stocked_product(10)
    placed = make_order(lines=[(product, 2)])
    held = make_order(lines=[(product, 3)])
    # A declined card waits as long as its payment link (72 hours).
    hold_order(order_id=held.pk, reason_code=HoldReason.PAYMENT_DECLINED, actor=None)
    approved = make_order(lines=[(product, 1)])
    approve_order(order_id=approved.pk, actor=None)
    mailoutbox.clear()

    assert expire_orders(now=timezone.now() + timedelta(hours=73)) == 2

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {placed.pk: "expired", held.pk: "expired", approved.pk: "reserved"}
    assert StockLevel.objects.get(product=product).reserved == 1
    for order, from_status in [(placed, "placed"), (held, "on_hold")]:
        event = Order.objects.get(pk=order.pk).events.filter(
            kind=EventKind.STATUS_CHANGED).last()
        assert (event.from_status, event.to_status, event.actor) == (
            from_status, "expired", None)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [placed.customer.email, held.customer.email])
    assert all("expired" in m.subject for m in mailoutbox)


def test_nothing_due_expires_nothing():
    order = make_order()
    assert expire_orders(now=timezone.now()) == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED


def test_expiry_is_set_based_query_count_does_not_grow_with_orders(
        real_broker):  # noqa: F811
    product = stocked_product(100)

    def run(count):
        for _ in range(count):
            make_order(lines=[(product, 1)])
        real_broker.delete(TEST_QUEUE)  # the placements' own e-mails
        with CaptureQueriesContext(connection) as ctx:
            assert expire_orders(now=timezone.now() + LATER) == count
        # After the commit the e-mails cost one publish and no statement.
        assert real_broker.llen(TEST_QUEUE) == 1
        return [query["sql"] for query in ctx.captured_queries]

    two, twelve = run(2), run(12)
    assert len(two) == len(twelve)
    (emails,) = [sql for sql in twelve if "oms_outboxmessage" in sql]
    assert emails.strip().startswith("INSERT")
    assert not [sql for sql in twelve if "SAVEPOINT" in sql]


def test_a_sweep_of_hundreds_of_orders_sends_each_one_expired_email(mailoutbox):
    product = stocked_product(1000)
    orders = [make_order(lines=[(product, 1)]) for _ in range(250)]
    mailoutbox.clear()
    now = timezone.now() + LATER

    assert expire_orders(now=now) == 250
    # A second sweep (or a retried one) finds nothing and writes no e-mail.
    assert expire_orders(now=now) == 0

    emails = OutboxMessage.objects.filter(handler="orders.send_order_email",
                                          payload__kind="expired")
    assert sorted(emails.values_list("payload__order_id", flat=True)) == sorted(
        order.pk for order in orders)
    assert set(emails.values_list("status", flat=True)) == {OutboxMessage.Status.DONE}
    assert sorted(m.to[0] for m in mailoutbox) == sorted(o.customer.email for o in orders)
    assert all("expired" in m.subject for m in mailoutbox)


def test_running_twice_expires_once():
    make_order()
    now = timezone.now() + LATER
    assert expire_orders(now=now) == 1
    assert expire_orders(now=now) == 0


def test_beat_task_calls_the_service():
    order = make_order()
    Order.objects.filter(pk=order.pk).update(hold_expires_at=timezone.now() - LATER)
    Reservation.objects.filter(order_id=order.pk).update(expires_at=timezone.now() - LATER)
    assert expire_reservations.apply().result == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED


def test_expired_order_cannot_be_approved_afterwards():
    order = make_order()
    expire_orders(now=timezone.now() + LATER)
    with pytest.raises(ApplicationError) as exc:
        approve_order(order_id=order.pk, actor=None)
    assert exc.value.status == 409


@pytest.mark.parametrize("round_", range(5))
def test_expiry_racing_approval_one_wins_never_both(round_):
    product = stocked_product(5)
    order = make_order(lines=[(product, 2)])
    # The hold has lapsed, but the sweep has not run yet.
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk=order.pk).update(hold_expires_at=past)
    Reservation.objects.filter(order_id=order.pk).update(expires_at=past)

    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def approve():
        try:
            barrier.wait()
            approve_order(order_id=order.pk, actor=None)
            outcome["approve"] = "ok"
        except ApplicationError as exc:
            outcome["approve"] = exc.status
        except Exception as exc:  # a deadlock or anything unexpected fails the test
            outcome["approve"] = repr(exc)
        finally:
            connection.close()

    def expire():
        try:
            barrier.wait()
            outcome["expire"] = expire_orders()
        except Exception as exc:
            outcome["expire"] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve), threading.Thread(target=expire)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    order = Order.objects.get(pk=order.pk)
    level = StockLevel.objects.get(product=product)
    active = list(Reservation.objects.filter(order_id=order.pk, status="active")
                  .values_list("kind", "quantity"))
    if outcome["approve"] == "ok":
        assert outcome["expire"] == 0
        assert order.status == OrderStatus.RESERVED
        assert active == [("firm", 2)] and level.reserved == 2
    else:
        assert outcome == {"approve": 409, "expire": 1}
        assert order.status == OrderStatus.EXPIRED
        assert active == [] and level.reserved == 0
    changes = list(order.events.filter(kind=EventKind.STATUS_CHANGED)
                   .values_list("to_status", flat=True))
    assert changes == ["placed", order.status]
