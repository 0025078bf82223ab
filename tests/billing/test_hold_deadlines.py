"""Each hold reason under a frozen clock: the order lapses exactly at the
deadline its e-mail promised (none for a review), its stock is released
exactly once, and the once-per-wait reminder and managers' alert go out once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Customer
from inventory.models import Product, Reservation, StockLevel, StockMovement
from oms.lib.dates import format_deadline
from orders import services as order_services
from orders.models import HoldReason, Order, OrderStatus
from tests.factories.billing import APPROVE, DECLINE, bank_transfer, card, net_terms
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday morning, in winter time
MINUTE = timedelta(minutes=1)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and let its after-commit work (the outbox e-mails) run."""
    def call(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)
    return call


def sweep_at(moment: datetime, run) -> int:
    with time_machine.travel(moment, tick=False):
        return run(order_services.expire_orders)


def stock_state(product: Product, order: Order) -> dict:
    """What the shelf and the ledger say about the order's stock."""
    return {
        "reserved": StockLevel.objects.get(product=product).reserved,
        "on_hand": StockLevel.objects.get(product=product).on_hand,
        "movements": StockMovement.objects.filter(product=product).count(),
        "reservations": sorted(Reservation.objects.filter(order_id=order.pk)
                               .values_list("status", flat=True)),
    }


def deadline_text(moment: datetime, customer: Customer) -> str:
    """The deadline as the customer reads it: their language and time zone."""
    with translation.override(customer.preferred_language), timezone.override(customer.zone):
        return format_deadline(moment)


def customer_mails(order: Order, subject_part: str) -> list:
    return [m for m in mail.outbox
            if m.to == [order.customer.email] and subject_part in m.subject]


def assert_lapses_at(order: Order, deadline: datetime, product: Product, run,
                     *, reservation_end: str) -> None:
    """No lapse one minute before `deadline`, lapse one minute after, the
    stock released once (a second sweep changes nothing)."""
    before = stock_state(product, order)
    assert sweep_at(deadline - MINUTE, run) == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ON_HOLD
    assert stock_state(product, order) == before

    assert sweep_at(deadline + MINUTE, run) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED
    after = stock_state(product, order)
    assert after["reserved"] == 0 and after["on_hand"] == before["on_hand"]
    assert after["movements"] == before["movements"]  # on_hand never moved
    assert after["reservations"] == [reservation_end]

    assert sweep_at(deadline + timedelta(days=30), run) == 0
    assert stock_state(product, order) == after


def test_unconfirmed_stock_hold_lapses_after_reservation_hold_minutes(run, settings):
    settings.RESERVATION_HOLD_MINUTES = 60
    product = stocked_product(10)
    with time_machine.travel(T0, tick=False):
        order = make_order(lines=[(product, 4)])  # the approval never ran: still placed
    assert order.hold_expires_at == T0 + timedelta(minutes=60)
    assert StockLevel.objects.get(product=product).reserved == 4

    assert sweep_at(order.hold_expires_at - MINUTE, run) == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED
    assert sweep_at(order.hold_expires_at + MINUTE, run) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED
    assert stock_state(product, order)["reserved"] == 0
    assert stock_state(product, order)["reservations"] == ["expired"]


def test_declined_card_waits_as_long_as_its_link_and_the_email_says_until_when(
        place, run, settings):
    settings.BILLING_CARD_LINK_MAX_AGE_HOURS = 72
    settings.HOLD_RELEASE_STOCK_REASONS = []
    product = stocked_product(10)
    customer = CustomerFactory(standing="trusted", preferred_language="fr",
                               time_zone="America/New_York")
    with time_machine.travel(T0, tick=False):
        order = place(customer=customer, lines=[(product, 3)], payment=card(DECLINE))
    assert (order.status, order.hold_reason) == ("on_hold", HoldReason.PAYMENT_DECLINED)
    deadline = T0 + timedelta(hours=72)
    assert order.hold_expires_at == deadline
    # The stock is kept for the whole wait: its hold lapses with the order.
    assert set(Reservation.objects.filter(order_id=order.pk)
               .values_list("expires_at", flat=True)) == {deadline}
    assert StockLevel.objects.get(product=product).reserved == 3

    (link_mail,) = [m for m in customer_mails(order, order.number) if "/billing/pay/" in m.body]
    promised = deadline_text(deadline, customer)
    assert "mars 2026" in promised and "EST" in promised  # French, New York time
    assert promised in link_mail.body
    assert promised in link_mail.alternatives[0][0]

    assert_lapses_at(order, deadline, product, run, reservation_end="expired")


def test_bank_transfer_prepayment_waits_days_stock_released_once_when_the_wait_begins(
        place, run, settings):
    settings.HOLD_PREPAYMENT_DAYS = 7
    settings.HOLD_RELEASE_STOCK_REASONS = ["prepayment_missing"]
    product = stocked_product(10)
    customer = CustomerFactory(standing="trusted", payment_preference="bank_transfer",
                               payment_terms_days=0, time_zone="Europe/Bucharest")
    with time_machine.travel(T0, tick=False):
        order = place(customer=customer, lines=[(product, 5)], payment=bank_transfer())
    assert (order.status, order.hold_reason) == ("on_hold", HoldReason.PREPAYMENT_MISSING)
    deadline = T0 + timedelta(days=7)
    assert order.hold_expires_at == deadline
    # Released once, as the wait began; nothing is left for the sweep to release.
    assert stock_state(product, order)["reserved"] == 0
    assert stock_state(product, order)["reservations"] == ["released"]

    (hold_mail,) = customer_mails(order, "on hold")
    promised = deadline_text(deadline, customer)
    assert "EET" in promised
    assert promised in hold_mail.body
    assert "we ship as soon as the payment arrives" in hold_mail.body

    assert_lapses_at(order, deadline, product, run, reservation_end="released")


def test_prepayment_arriving_after_the_stock_went_back_reserves_it_again(
        place, run, make_user, settings):
    settings.HOLD_RELEASE_STOCK_REASONS = ["prepayment_missing"]
    product = stocked_product(10)
    customer = CustomerFactory(standing="trusted", payment_terms_days=0)
    with time_machine.travel(T0, tick=False):
        order = place(customer=customer, lines=[(product, 5)], payment=bank_transfer())
    from billing.models import Payment
    from billing.services import record_payment_received

    payment = Payment.objects.get(order=order)
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        run(record_payment_received, payment_id=payment.pk, actor=make_user("Accounting"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED
    assert StockLevel.objects.get(product=product).reserved == 5
    assert sorted(Reservation.objects.filter(order_id=order.pk)
                  .values_list("kind", "status")) == [("firm", "active"), ("hold", "released")]


def test_prepayment_arriving_when_stock_is_gone_backorders_the_order(
        place, run, make_user, settings):
    settings.HOLD_RELEASE_STOCK_REASONS = ["prepayment_missing"]
    product = stocked_product(5)
    customer = CustomerFactory(standing="trusted", payment_terms_days=0)
    with time_machine.travel(T0, tick=False):
        order = place(customer=customer, lines=[(product, 5)], payment=bank_transfer())
        place(customer=CustomerFactory(standing="trusted"), lines=[(product, 5)],
              payment=card(APPROVE))  # someone else buys the shelf meanwhile
    from billing.models import Payment
    from billing.services import record_payment_received

    run(record_payment_received, payment_id=Payment.objects.get(order=order).pk,
        actor=make_user("Accounting"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.BACKORDERED


@pytest.mark.parametrize("customer_fields, payment, reason", [
    ({"standing": "new"}, card(APPROVE), HoldReason.NEW_CUSTOMER),
    ({"standing": "trusted", "payment_terms_days": 30}, net_terms(), HoldReason.CREDIT_LIMIT),
])
def test_a_review_waits_until_decided_with_its_stock(place, run, settings, customer_fields,
                                                     payment, reason):
    settings.HOLD_RELEASE_STOCK_REASONS = []
    product = stocked_product(10)
    with time_machine.travel(T0, tick=False):
        order = place(customer=CustomerFactory(**customer_fields), lines=[(product, 2)],
                      payment=payment)
    assert (order.status, order.hold_reason) == ("on_hold", reason)
    assert order.hold_expires_at is None and order.held_since == T0
    assert list(Reservation.objects.filter(order_id=order.pk)
                .values_list("status", "expires_at")) == [("active", None)]
    (hold_mail,) = customer_mails(order, "on hold")
    assert "expires" not in hold_mail.body  # no deadline promised, none kept

    assert sweep_at(T0 + timedelta(days=365), run) == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ON_HOLD
    assert StockLevel.objects.get(product=product).reserved == 2


def test_a_review_that_releases_its_stock_reserves_it_again_on_approval(
        place, run, make_user, settings):
    settings.HOLD_RELEASE_STOCK_REASONS = ["new_customer"]
    product = stocked_product(10)
    order = place(customer=CustomerFactory(standing="new"), lines=[(product, 2)],
                  payment=card(APPROVE))
    assert stock_state(product, order)["reserved"] == 0
    from billing.services import approve_held_order

    run(approve_held_order, order_id=order.pk, actor=make_user("Sales"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED
    assert stock_state(product, order)["reserved"] == 2


def test_prepayment_reminder_is_sent_once_before_the_deadline_stating_it(
        place, run, settings):
    settings.HOLD_PREPAYMENT_DAYS = 7
    settings.HOLD_PREPAYMENT_REMINDER_DAYS = 2
    customer = CustomerFactory(standing="trusted", payment_terms_days=0,
                               preferred_language="fr", time_zone="Europe/Paris")
    with time_machine.travel(T0, tick=False):
        order = place(customer=customer, payment=bank_transfer())
    deadline = T0 + timedelta(days=7)
    mail.outbox.clear()

    def remind_at(moment):
        with time_machine.travel(moment, tick=False):
            return run(order_services.send_prepayment_reminders)

    assert remind_at(deadline - timedelta(days=2) - MINUTE) == 0
    assert remind_at(deadline - timedelta(days=2)) == 1
    assert remind_at(deadline - timedelta(days=1)) == 0
    (reminder,) = mail.outbox
    assert reminder.to == [customer.email] and order.number in reminder.subject
    assert deadline_text(deadline, customer) in reminder.body
    assert Order.objects.get(pk=order.pk).hold_reminded_at == deadline - timedelta(days=2)


def test_managers_are_alerted_once_of_a_review_waiting_past_the_threshold(
        place, run, settings, manager, make_user):
    settings.HOLD_REVIEW_ALERT_HOURS = 24
    make_user("Sales")  # approvers who are not managers get no alert
    with time_machine.travel(T0, tick=False):
        order = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
        decided = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    run(order_services.approve_order, order_id=decided.pk, actor=None)
    mail.outbox.clear()

    def alert_at(moment):
        with time_machine.travel(moment, tick=False):
            return run(order_services.alert_managers_of_long_reviews)

    assert alert_at(T0 + timedelta(hours=24) - MINUTE) == 0
    assert alert_at(T0 + timedelta(hours=24)) == 1
    assert alert_at(T0 + timedelta(hours=48)) == 0
    (alert,) = mail.outbox
    assert alert.to == [manager.email]
    assert order.number in alert.subject and "1\xa0day" in alert.subject
    assert reverse("billing:approval_queue") in alert.body


def test_a_declined_card_paid_again_by_a_new_customer_then_waits_until_decided(
        place, run, settings):
    settings.HOLD_RELEASE_STOCK_REASONS = []
    product = stocked_product(10)
    with time_machine.travel(T0, tick=False):
        order = place(customer=CustomerFactory(standing="new"), lines=[(product, 2)],
                      payment=card(DECLINE))
    assert order.hold_expires_at == T0 + timedelta(hours=72)
    from billing.services import retry_card_payment

    with time_machine.travel(T0 + timedelta(hours=70), tick=False):
        run(retry_card_payment, order_id=order.pk, card_number=APPROVE, attempt_key="c" * 32)
    order.refresh_from_db()
    assert (order.hold_reason, order.hold_expires_at) == (HoldReason.NEW_CUSTOMER, None)
    assert order.held_since == T0 + timedelta(hours=70)
    assert list(Reservation.objects.filter(order_id=order.pk)
                .values_list("status", "expires_at")) == [("active", None)]
    assert sweep_at(T0 + timedelta(days=30), run) == 0
    assert StockLevel.objects.get(product=product).reserved == 2
