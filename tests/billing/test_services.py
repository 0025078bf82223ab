"""Payment approval rules, end to end: orders placed through orders.services,
the registered approver (billing) deciding after the placement commits."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail

from billing import services
from billing.models import Payment, PaymentStatus, PaymentTransaction
from billing.services import approval
from customers.models import Customer
from oms.lib.errors import ApplicationError, NotAllowed
from orders.models import EventKind, Order, OrderEvent
from orders.payments import PaymentDetails
from tests.factories.billing import (
    APPROVE,
    DECLINE,
    INSUFFICIENT_FUNDS,
    NEEDS_REVIEW,
    bank_transfer,
    card,
    net_terms,
)
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db


def statuses(order: Order) -> list[str]:
    return list(order.events.filter(kind=EventKind.STATUS_CHANGED)
                .values_list("to_status", flat=True))


def test_trusted_customer_with_an_approved_card_goes_straight_to_reserved(place):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(APPROVE))
    assert order.status == "reserved"
    assert statuses(order) == ["placed", "reserved"]
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.last4, payment.amount) == ("authorised", "4242",
                                                               order.total_gross)


def test_new_customer_goes_on_hold_for_approval_with_the_card_authorised(place):
    order = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    assert (order.status, order.hold_reason) == ("on_hold", "new_customer")
    assert Payment.objects.get(order=order).status == "authorised"


@pytest.mark.parametrize("number", [DECLINE, INSUFFICIENT_FUNDS])
def test_declined_card_holds_the_order_and_emails_a_signed_link(place, number):
    customer = CustomerFactory(standing="trusted", email="ada@example.com")
    order = place(customer=customer, payment=card(number))
    assert (order.status, order.hold_reason) == ("on_hold", "payment_declined")
    assert Payment.objects.get(order=order).status == "declined"
    retry_mails = [m for m in mail.outbox if "payment details" in m.subject]
    assert len(retry_mails) == 1
    assert retry_mails[0].to == ["ada@example.com"]
    token = re.search(r"/billing/pay/([^/\s]+)/", retry_mails[0].body).group(1)
    assert services.order_id_from_card_link(token) == order.pk
    assert number not in retry_mails[0].body


def test_card_order_without_card_details_asks_the_customer_for_them(place):
    order = place(customer=CustomerFactory(standing="trusted"),
                  payment=PaymentDetails(method="card"))
    assert (order.status, order.hold_reason) == ("on_hold", "payment_declined")
    assert not Payment.objects.filter(order=order).exists()
    assert any("payment details" in m.subject for m in mail.outbox)


def test_mistyped_card_number_is_refused_at_placement_and_nothing_is_saved(place):
    with pytest.raises(ApplicationError) as refused:
        place(customer=CustomerFactory(standing="trusted"), payment=card("4242424242424241"))

    assert "not valid" in refused.value.field_errors["payment.card_number"][0]
    assert not Order.objects.exists() and not Payment.objects.exists()


def test_an_invalid_card_number_past_placement_still_holds_as_declined(place, monkeypatch):
    # The approver's own check, for details that reach it without placement's
    # (the checker unregistered here to get such an order).
    from orders import payments

    monkeypatch.setattr(payments, "_checker", None)
    order = place(customer=CustomerFactory(standing="trusted"),
                  payment=card("4242424242424241"))
    assert (order.status, order.hold_reason) == ("on_hold", "payment_declined")
    assert "not valid" in order.hold_note
    assert not Payment.objects.exists()


def test_payment_flagged_for_review_is_held_for_a_person(place):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(NEEDS_REVIEW))
    assert (order.status, order.hold_reason) == ("on_hold", "manual")
    assert Payment.objects.get(order=order).status == "review"


def test_prepaid_bank_transfer_without_payment_is_blocked_and_managers_are_told(place,
                                                                                manager):
    customer = CustomerFactory(standing="trusted", payment_preference="bank_transfer",
                               payment_terms_days=0)
    order = place(customer=customer, payment=bank_transfer())
    assert (order.status, order.hold_reason) == ("on_hold", "prepayment_missing")
    assert Payment.objects.get(order=order).status == "pending"
    signals = [m for m in mail.outbox if "prepayment missing" in m.subject]
    assert len(signals) == 1 and signals[0].to == [manager.email]
    assert order.number in signals[0].subject


def test_net_terms_within_the_credit_limit_is_approved(place):
    customer = CustomerFactory(standing="trusted", payment_preference="net_terms",
                               payment_terms_days=30, credit_limit=Decimal("1000.00"))
    order = place(customer=customer, payment=net_terms())
    assert order.status == "reserved"
    assert Payment.objects.get(order=order).status == "authorised"


def test_open_orders_plus_this_one_over_the_credit_limit_are_held(place):
    customer = CustomerFactory(standing="trusted", payment_preference="net_terms",
                               payment_terms_days=30, credit_limit=Decimal("50.00"))
    product = stocked_product(unit_price=Decimal("10.00"), tax_rate=Decimal("0.00"))
    first = place(customer=customer, payment=net_terms(), lines=[(product, 3)])  # 30.00
    assert first.status == "reserved"
    second = place(customer=customer, payment=net_terms(), lines=[(product, 3)])  # 60 > 50
    assert (second.status, second.hold_reason) == ("on_hold", "credit_limit")
    assert "50.00" in second.hold_note


def test_cancelled_orders_do_not_count_against_the_credit_limit(place, make_user):
    customer = CustomerFactory(standing="trusted", payment_preference="net_terms",
                               payment_terms_days=30, credit_limit=Decimal("50.00"))
    product = stocked_product(unit_price=Decimal("10.00"), tax_rate=Decimal("0.00"))
    first = place(customer=customer, payment=net_terms(), lines=[(product, 3)])
    from orders.services import cancel_order

    cancel_order(order_id=first.pk, actor=make_user("Sales"), reason="customer changed mind")
    second = place(customer=customer, payment=net_terms(), lines=[(product, 3)])
    assert second.status == "reserved"


def test_blocked_customer_cannot_place_an_order(place):
    customer = CustomerFactory(standing="blocked")
    with pytest.raises(ApplicationError) as info:
        place(customer=customer, payment=card(APPROVE))
    assert info.value.code == "customer_blocked"
    assert not Order.objects.filter(customer=customer).exists()
    assert not Payment.objects.exists()


def test_customer_blocked_after_placing_is_cancelled_without_charging():
    customer = CustomerFactory(standing="trusted")
    order = make_order(customer=customer)  # approval not run yet (after commit)
    Customer.objects.filter(pk=customer.pk).update(standing="blocked")
    services.approve_order_payment(order_id=order.pk, payment=card(APPROVE), actor=None)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert not Payment.objects.exists()


def test_approval_delivered_twice_charges_once_and_decides_once():
    order = make_order(customer=CustomerFactory(standing="trusted"))
    services.approve_order_payment(order_id=order.pk, payment=card(APPROVE), actor=None)
    services.approve_order_payment(order_id=order.pk, payment=card(APPROVE), actor=None)
    order.refresh_from_db()
    assert order.status == "reserved"
    assert Payment.objects.filter(order=order).count() == 1
    assert statuses(order) == ["placed", "reserved"]


def test_clients_idempotency_key_is_scoped_to_the_order():
    first = make_order(customer=CustomerFactory(standing="trusted"))
    second = make_order(customer=CustomerFactory(standing="trusted"))
    for order in (first, second):
        services.approve_order_payment(order_id=order.pk, payment=card(APPROVE, key="same"),
                                       actor=None)
    assert Payment.objects.count() == 2


def test_approve_held_order_reserves_it_and_writes_an_event(place, make_user):
    order = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    approver = make_user("Accounting")
    services.approve_held_order(order_id=order.pk, actor=approver, reason="known company")
    order.refresh_from_db()
    assert order.status == "reserved"
    event = order.events.filter(to_status="reserved").get()
    assert (event.actor, event.reason) == (approver, "known company")


def test_reject_held_order_cancels_it_and_voids_the_authorisation(place, make_user):
    order = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    sales = make_user("Sales")
    services.reject_held_order(order_id=order.pk, actor=sales, reason="fraud suspicion")
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.events.filter(to_status="cancelled", actor=sales,
                               reason="fraud suspicion").exists()
    assert Payment.objects.get(order=order).status == "voided"
    assert PaymentTransaction.objects.filter(kind="void").count() == 1


def test_reject_needs_a_reason_and_changes_nothing(place, make_user):
    order = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    with pytest.raises(ApplicationError) as info:
        services.reject_held_order(order_id=order.pk, actor=make_user("Sales"), reason="  ")
    assert "reason" in info.value.field_errors
    order.refresh_from_db()
    assert order.status == "on_hold"
    assert Payment.objects.get(order=order).status == "authorised"


def test_deciding_an_order_that_waits_for_nothing_is_refused(place, make_user):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(APPROVE))
    events = OrderEvent.objects.filter(order=order).count()
    with pytest.raises(NotAllowed):
        services.approve_held_order(order_id=order.pk, actor=make_user("Sales"))
    with pytest.raises(NotAllowed):
        services.reject_held_order(order_id=order.pk, actor=make_user("Accounting"),
                                   reason="no")
    order.refresh_from_db()
    assert order.status == "reserved"
    assert OrderEvent.objects.filter(order=order).count() == events


def test_held_order_of_a_customer_blocked_meanwhile_cannot_be_approved(place, make_user):
    order = place(customer=CustomerFactory(standing="new"), payment=card(APPROVE))
    Customer.objects.filter(pk=order.customer_id).update(standing="blocked")
    with pytest.raises(NotAllowed) as info:
        services.approve_held_order(order_id=order.pk, actor=make_user("Sales"))
    assert info.value.code == "customer_blocked"
    order.refresh_from_db()
    assert order.status == "on_hold"
    assert Payment.objects.get(order=order).status == "authorised"


def test_stale_placed_order_can_be_approved_or_rejected_by_hand(make_user):
    order = make_order(customer=CustomerFactory(standing="trusted"))  # approver never ran
    services.reject_held_order(order_id=order.pk, actor=make_user("Sales"), reason="dup")
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_approver_failure_leaves_the_order_placed_for_the_queue(monkeypatch):
    order = make_order(customer=CustomerFactory(standing="trusted"))

    def broken(**kwargs):
        raise RuntimeError("provider down")

    monkeypatch.setattr(approval, "approve_order_payment", broken)
    services.run_payment_approval(order_id=order.pk, payment=card(APPROVE), actor=None)
    order.refresh_from_db()
    assert order.status == "placed"


def test_retry_with_a_good_card_approves_a_trusted_customers_order(place):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    result = services.retry_card_payment(order_id=order.pk, card_number=APPROVE,
                                         attempt_key="a" * 32)
    assert result.status == PaymentStatus.AUTHORISED
    order.refresh_from_db()
    assert order.status == "reserved"


def test_retry_for_a_new_customer_keeps_the_order_waiting_with_a_note(place):
    order = place(customer=CustomerFactory(standing="new"), payment=card(DECLINE))
    services.retry_card_payment(order_id=order.pk, card_number=APPROVE, attempt_key="b" * 32)
    order.refresh_from_db()
    assert order.status == "on_hold"
    note = order.events.filter(kind=EventKind.CARD_AUTHORISED).get()
    assert "4242" in note.summary and "authorised" in note.summary


def test_retry_double_submit_is_one_charge(place):
    order = place(customer=CustomerFactory(standing="new"), payment=card(DECLINE))
    for _ in range(2):
        services.retry_card_payment(order_id=order.pk, card_number=DECLINE,
                                    attempt_key="c" * 32)
    assert Payment.objects.filter(order=order).count() == 2  # the first decline + one retry


def test_retry_attempts_are_capped(place, settings):
    settings.BILLING_CARD_RETRY_MAX_ATTEMPTS = 2
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    for key in ("1" * 32, "2" * 32):
        services.retry_card_payment(order_id=order.pk, card_number=DECLINE, attempt_key=key)
    with pytest.raises(NotAllowed):
        services.retry_card_payment(order_id=order.pk, card_number=APPROVE,
                                    attempt_key="3" * 32)


def test_retry_on_an_order_that_no_longer_waits_is_refused(place):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(APPROVE))
    with pytest.raises(NotAllowed):
        services.retry_card_payment(order_id=order.pk, card_number=APPROVE,
                                    attempt_key="d" * 32)


def test_recording_a_prepayment_approves_a_trusted_customers_held_order(place, manager):
    customer = CustomerFactory(standing="trusted", payment_preference="bank_transfer")
    order = place(customer=customer, payment=bank_transfer())
    payment = Payment.objects.get(order=order)
    services.record_payment_received(payment_id=payment.pk, actor=manager)
    order.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == "captured" and payment.captured_amount == order.total_gross
    assert order.status == "reserved"


def test_recording_a_prepayment_of_a_new_customer_notes_it_and_keeps_waiting(place, manager):
    customer = CustomerFactory(standing="new", payment_preference="bank_transfer")
    order = place(customer=customer, payment=bank_transfer())
    services.record_payment_received(payment_id=Payment.objects.get(order=order).pk,
                                     actor=manager)
    order.refresh_from_db()
    assert order.status == "on_hold"
    assert any("prepayment" in event.summary
               for event in order.events.filter(kind=EventKind.PREPAYMENT))


def test_recording_a_declined_payment_is_refused(place, manager):
    order = place(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    with pytest.raises(NotAllowed):
        services.record_payment_received(payment_id=Payment.objects.get(order=order).pk,
                                         actor=manager)


def test_net_terms_for_a_prepaid_customer_is_checked_against_the_credit_limit(place):
    customer = CustomerFactory(standing="trusted", payment_terms_days=0,
                               credit_limit=Decimal("0.00"))
    order = place(customer=customer, payment=net_terms())
    assert (order.status, order.hold_reason) == ("on_hold", "credit_limit")


def test_bank_transfer_on_terms_is_credit_checked_not_prepayment_held(place):
    customer = CustomerFactory(standing="trusted", payment_preference="bank_transfer",
                               payment_terms_days=30, credit_limit=Decimal("10000.00"))
    order = place(customer=customer, payment=bank_transfer())
    assert order.status == "reserved"
    assert Payment.objects.get(order=order).status == "pending"


def test_the_emailed_link_starts_with_the_site_url(place, settings):
    settings.SITE_URL = "https://oms.example.com/"
    place(customer=CustomerFactory(standing="trusted"), payment=card(DECLINE))
    (message,) = [m for m in mail.outbox if "payment details" in m.subject]
    assert "https://oms.example.com/billing/pay/" in message.body
