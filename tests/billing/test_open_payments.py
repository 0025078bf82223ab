"""No money stays blocked or is taken twice: the card-retry link takes one card,
capture stops at what is due and voids the rest, and a payment the gateway
held for review ends captured (order approved) or voided (order rejected,
cancelled or expired)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import services
from billing.models import CustomerCredit, Invoice, InvoiceStatus, Payment, PaymentStatus
from billing.providers import provider_for_method
from oms.lib.errors import NotAllowed
from orders import services as order_services
from orders.models import Order
from tests.billing.invoicing_support import reserved_order, ship
from tests.factories.billing import APPROVE, DECLINE, NEEDS_REVIEW, authorise, card
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    def run(order: Order) -> Order:
        with django_capture_on_commit_callbacks(execute=True):
            ship(order)
        order.refresh_from_db()
        return order

    return run


def open_payments(order: Order) -> list[str]:
    return list(Payment.objects.filter(order=order, status__in=["authorised", "review"])
                .values_list("status", flat=True))


# --- the card-retry link takes one card -------------------------------------------


def test_an_accepted_retry_ends_the_wait_for_a_card_and_refuses_a_second_one(place):
    order = place(customer=CustomerFactory(standing="new"), payment=card(DECLINE))
    services.retry_card_payment(order_id=order.pk, card_number=APPROVE, attempt_key="a" * 32)
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == ("on_hold", "new_customer")
    assert not services.order_awaits_card(order)

    with pytest.raises(NotAllowed) as refused:
        services.retry_card_payment(order_id=order.pk, card_number=APPROVE,
                                    attempt_key="b" * 32)
    assert "does not need new payment details" in refused.value.message
    assert open_payments(order) == ["authorised"]


def test_a_retried_card_held_for_review_waits_for_a_person(place):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    result = services.retry_card_payment(order_id=order.pk, card_number=NEEDS_REVIEW,
                                         attempt_key="c" * 32)
    assert result.status == PaymentStatus.REVIEW
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == ("on_hold", "manual")
    assert not services.order_awaits_card(order)


def test_the_retry_page_takes_no_second_card(client, place):
    order = place(customer=CustomerFactory(standing="new"), payment=card(DECLINE))
    page = reverse("billing:card_retry",
                   kwargs={"token": services.card_link_token(order_id=order.pk)})
    form = {"card_number": APPROVE, "expiry": "12/40", "cvc": "123"}
    first = client.post(page, {**form, "attempt_key": "d" * 32})
    assert first.status_code == 200 and "was authorised" in first.content.decode()

    second = client.post(page, {**form, "attempt_key": "e" * 32})
    assert "does not need new payment details" in second.content.decode()
    assert open_payments(order) == ["authorised"]


# --- capture at shipment ---------------------------------------------------------


def _second_authorisation(order: Order) -> None:
    """An authorisation left over from before the link took one card only."""
    provider_for_method("card").authorise(
        order_id=order.pk, method="card", amount=order.total_gross, currency=order.currency,
        idempotency_key=f"order:{order.pk}:retry:{'f' * 32}", card_number=APPROVE)


def test_capture_takes_what_is_due_once_and_voids_the_other_authorisation(shipped):
    order = reserved_order(on_terms=False)
    _second_authorisation(order)
    order = shipped(order)

    invoice = Invoice.objects.get(order=order)
    payments = list(Payment.objects.filter(order=order).order_by("pk"))
    assert [p.status for p in payments] == [PaymentStatus.CAPTURED, PaymentStatus.VOIDED]
    assert sum(p.captured_amount for p in payments) == invoice.total_gross
    assert invoice.status == InvoiceStatus.PAID and order.status == "paid"
    assert not CustomerCredit.objects.filter(customer=order.customer).exists()


def test_capture_stops_at_a_smaller_due_and_the_next_card_covers_only_the_rest(shipped):
    order = reserved_order(on_terms=False)
    first = Payment.objects.get(order=order)
    # The first authorisation covers half; the second one only the rest.
    Payment.objects.filter(pk=first.pk).update(amount=order.total_gross / 2)
    _second_authorisation(order)
    order = shipped(order)

    payments = list(Payment.objects.filter(order=order).order_by("pk"))
    assert [p.status for p in payments] == [PaymentStatus.CAPTURED, PaymentStatus.CAPTURED]
    assert [p.captured_amount for p in payments] == [order.total_gross / 2,
                                                     order.total_gross / 2]
    assert not CustomerCredit.objects.filter(customer=order.customer).exists()


# --- payments held for review by the gateway ---------------------------------------


@pytest.fixture
def review_order(place) -> Order:
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(NEEDS_REVIEW))
    assert (order.status, order.hold_reason) == ("on_hold", "manual")
    assert open_payments(order) == ["review"]
    return order


def test_an_approved_order_paid_with_a_review_payment_is_captured_at_shipment(
        review_order, make_user, shipped):
    services.approve_held_order(order_id=review_order.pk, actor=make_user("Sales"))
    order = shipped(Order.objects.get(pk=review_order.pk))

    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.captured_amount == order.total_gross
    assert order.status == "paid"


def test_rejecting_the_order_voids_its_review_payment(review_order, make_user):
    services.reject_held_order(order_id=review_order.pk, actor=make_user("Accounting"),
                               reason="fraud check failed")
    assert Payment.objects.get(order=review_order).status == PaymentStatus.VOIDED


def test_a_cancelled_orders_review_payment_is_voided_by_the_sweep(review_order, make_user):
    order_services.cancel_order(order_id=review_order.pk, actor=make_user("Manager"),
                                reason="customer called")
    assert services.void_payments_of_closed_orders() == 1
    assert Payment.objects.get(order=review_order).status == PaymentStatus.VOIDED


def test_a_review_hold_never_lapses_so_its_payment_stays_open(review_order):
    # A person decides a review; its authorisation waits with it.
    assert order_services.expire_orders(now=timezone.now() + timedelta(days=30)) == 0
    assert Order.objects.get(pk=review_order.pk).status == "on_hold"
    assert services.void_payments_of_closed_orders() == 0
    assert open_payments(review_order) == ["review"]


def test_an_expired_orders_review_payment_is_voided_by_the_sweep():
    # Placed, the gateway's review payment recorded, no decision before the stock hold lapsed.
    order = make_order(customer=CustomerFactory(standing="trusted"))
    authorise(order, number=NEEDS_REVIEW)
    assert order_services.expire_orders(now=timezone.now() + timedelta(minutes=61)) == 1
    assert Order.objects.get(pk=order.pk).status == "expired"
    assert services.void_payments_of_closed_orders() == 1
    assert Payment.objects.get(order=order).status == PaymentStatus.VOIDED
