"""The sandbox and manual providers: test cards, operations, idempotency."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from billing.models import Payment, PaymentStatus, PaymentTransaction
from billing.providers import (
    IdempotencyKeyReused,
    PaymentError,
    get_provider,
    provider_for_method,
)
from billing.providers.sandbox import (
    APPROVE,
    DECLINE,
    INSUFFICIENT_FUNDS,
    NEEDS_REVIEW,
    luhn_valid,
)
from oms.lib.errors import NotAllowed

sandbox = get_provider("sandbox")
manual = get_provider("manual")
AMOUNT = Decimal("120.00")


def authorise(order, card, key="k1", amount=AMOUNT):
    return sandbox.authorise(order_id=order.pk, method="card", amount=amount, currency="EUR",
                             idempotency_key=key, card_number=card)


@pytest.mark.parametrize("card", [APPROVE, DECLINE, INSUFFICIENT_FUNDS, NEEDS_REVIEW])
def test_test_cards_pass_the_luhn_check(card):
    assert luhn_valid(card)


@pytest.mark.django_db
@pytest.mark.parametrize(("card", "outcome", "status", "decline_code"), [
    (APPROVE, "approved", PaymentStatus.AUTHORISED, ""),
    ("4242 4242 4242 4242", "approved", PaymentStatus.AUTHORISED, ""),
    (DECLINE, "declined", PaymentStatus.DECLINED, "card_declined"),
    (INSUFFICIENT_FUNDS, "insufficient_funds", PaymentStatus.DECLINED, "insufficient_funds"),
    (NEEDS_REVIEW, "review", PaymentStatus.REVIEW, ""),
    ("5555555555554444", "approved", PaymentStatus.AUTHORISED, ""),
])
def test_sandbox_answers_each_test_card_deterministically(bare_order, card, outcome, status,
                                                          decline_code):
    result = authorise(bare_order(), card)
    assert (result.outcome, result.status, result.decline_code) == (outcome, status,
                                                                    decline_code)
    payment = Payment.objects.get(pk=result.payment_id)
    assert payment.status == status
    assert payment.amount == AMOUNT
    assert payment.last4 == card.replace(" ", "")[-4:]


@pytest.mark.django_db
def test_sandbox_stores_only_brand_and_last4_never_the_full_number(bare_order):
    result = authorise(bare_order(), APPROVE)
    payment = Payment.objects.get(pk=result.payment_id)
    assert (payment.card_brand, payment.last4) == ("Visa", "4242")
    with connection.cursor() as cursor:
        for table in (Payment._meta.db_table, PaymentTransaction._meta.db_table):
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608
            for (row,) in cursor.fetchall():
                assert APPROVE not in row
                assert "424242424242" not in row


@pytest.mark.django_db
@pytest.mark.parametrize("card", ["4242424242424241", "1234", "4242-abcd-4242-4242", ""])
def test_sandbox_refuses_invalid_numbers_with_a_field_error_and_records_nothing(
        bare_order, card):
    with pytest.raises(PaymentError) as info:
        authorise(bare_order(), card)
    assert "card_number" in info.value.field_errors
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_luhn_error_message_is_clear(bare_order):
    with pytest.raises(PaymentError, match="not valid"):
        authorise(bare_order(), "4242424242424241")


@pytest.mark.django_db
def test_same_key_twice_returns_the_first_result_and_charges_once(bare_order):
    order = bare_order()
    first = authorise(order, APPROVE, key="retry-me")
    second = authorise(order, APPROVE, key="retry-me")
    assert not first.replayed and second.replayed
    assert second.payment_id == first.payment_id
    assert second.reference == first.reference
    assert Payment.objects.count() == 1
    assert PaymentTransaction.objects.count() == 1


@pytest.mark.django_db
def test_a_declined_authorisation_replays_as_declined(bare_order):
    order = bare_order()
    first = authorise(order, DECLINE, key="d")
    again = authorise(order, DECLINE, key="d")
    assert again.replayed and again.status == PaymentStatus.DECLINED
    assert again.payment_id == first.payment_id


@pytest.mark.django_db
def test_same_key_with_a_different_request_is_refused(bare_order):
    order = bare_order()
    authorise(order, APPROVE, key="k")
    with pytest.raises(IdempotencyKeyReused):
        authorise(order, APPROVE, key="k", amount=Decimal("99.00"))
    with pytest.raises(IdempotencyKeyReused):
        authorise(order, "5555555555554444", key="k")
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_different_keys_make_different_payments(bare_order):
    order = bare_order()
    authorise(order, APPROVE, key="a")
    authorise(order, APPROVE, key="b")
    assert Payment.objects.filter(order=order).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5.00")])
def test_amount_must_be_positive(bare_order, amount):
    with pytest.raises(PaymentError):
        authorise(bare_order(), APPROVE, amount=amount)


@pytest.mark.django_db
def test_capture_then_refund_in_parts(bare_order):
    auth = authorise(bare_order(), APPROVE)
    captured = sandbox.capture(reference=auth.reference, idempotency_key="c1")
    assert captured.status == PaymentStatus.CAPTURED and captured.amount == AMOUNT
    part = sandbox.refund(reference=auth.reference, idempotency_key="r1",
                          amount=Decimal("20.00"))
    assert part.status == PaymentStatus.CAPTURED
    rest = sandbox.refund(reference=auth.reference, idempotency_key="r2")
    assert rest.amount == Decimal("100.00") and rest.status == PaymentStatus.REFUNDED
    payment = Payment.objects.get(pk=auth.payment_id)
    assert payment.refunded_amount == payment.captured_amount == AMOUNT
    with pytest.raises(NotAllowed):
        sandbox.refund(reference=auth.reference, idempotency_key="r3")


@pytest.mark.django_db
def test_capture_twice_with_one_key_replays_and_with_another_is_refused(bare_order):
    auth = authorise(bare_order(), APPROVE)
    first = sandbox.capture(reference=auth.reference, idempotency_key="c")
    again = sandbox.capture(reference=auth.reference, idempotency_key="c")
    assert again.replayed and again.transaction_id == first.transaction_id
    with pytest.raises(NotAllowed):
        sandbox.capture(reference=auth.reference, idempotency_key="c-other")
    assert PaymentTransaction.objects.filter(kind="capture").count() == 1


@pytest.mark.django_db
def test_capture_more_than_authorised_is_refused(bare_order):
    auth = authorise(bare_order(), APPROVE)
    with pytest.raises(PaymentError):
        sandbox.capture(reference=auth.reference, idempotency_key="c",
                        amount=AMOUNT + Decimal("0.01"))


@pytest.mark.django_db
def test_refund_more_than_captured_is_refused(bare_order):
    auth = authorise(bare_order(), APPROVE)
    sandbox.capture(reference=auth.reference, idempotency_key="c", amount=Decimal("50.00"))
    with pytest.raises(PaymentError):
        sandbox.refund(reference=auth.reference, idempotency_key="r", amount=Decimal("50.01"))


@pytest.mark.django_db
def test_void_releases_an_authorisation_and_then_it_cannot_be_captured(bare_order):
    auth = authorise(bare_order(), APPROVE)
    voided = sandbox.void(reference=auth.reference, idempotency_key="v")
    assert voided.status == PaymentStatus.VOIDED
    with pytest.raises(NotAllowed):
        sandbox.capture(reference=auth.reference, idempotency_key="c")


@pytest.mark.django_db
def test_declined_payment_cannot_be_captured_or_voided(bare_order):
    auth = authorise(bare_order(), DECLINE)
    with pytest.raises(NotAllowed):
        sandbox.capture(reference=auth.reference, idempotency_key="c")
    with pytest.raises(NotAllowed):
        sandbox.void(reference=auth.reference, idempotency_key="v")


@pytest.mark.django_db
def test_unknown_reference_is_refused(bare_order):
    with pytest.raises(PaymentError):
        sandbox.capture(reference="sbx_nope", idempotency_key="c")


@pytest.mark.django_db
def test_paypal_through_the_sandbox_is_approved_without_a_card(bare_order):
    result = provider_for_method("paypal").authorise(
        order_id=bare_order().pk, method="paypal", amount=AMOUNT, currency="EUR",
        idempotency_key="pp")
    assert result.status == PaymentStatus.AUTHORISED and result.last4 == ""


@pytest.mark.django_db
def test_manual_bank_transfer_is_pending_until_captured(bare_order):
    provider = provider_for_method("bank_transfer")
    assert provider is manual
    auth = provider.authorise(order_id=bare_order().pk, method="bank_transfer", amount=AMOUNT,
                              currency="EUR", idempotency_key="bt")
    assert auth.status == PaymentStatus.PENDING
    paid = provider.capture(reference=auth.reference, idempotency_key="bt-paid")
    assert paid.status == PaymentStatus.CAPTURED


@pytest.mark.django_db
def test_manual_net_terms_is_authorised_on_account_and_can_be_voided(bare_order):
    auth = manual.authorise(order_id=bare_order().pk, method="net_terms", amount=AMOUNT,
                            currency="EUR", idempotency_key="nt")
    assert auth.status == PaymentStatus.AUTHORISED
    assert manual.void(reference=auth.reference, idempotency_key="nt-v").status == "voided"


@pytest.mark.django_db
def test_providers_refuse_methods_they_do_not_take(bare_order):
    with pytest.raises(PaymentError):
        manual.authorise(order_id=bare_order().pk, method="card", amount=AMOUNT,
                         currency="EUR", idempotency_key="x", card_number=APPROVE)


@pytest.mark.django_db
def test_a_key_is_required(bare_order):
    with pytest.raises(PaymentError):
        authorise(bare_order(), APPROVE, key="  ")


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_authorisations_with_one_key_make_one_charge(bare_order):
    order = bare_order()
    barrier = threading.Barrier(10)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(authorise(order, APPROVE, key="same-key"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 10
    assert len({r.payment_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert PaymentTransaction.objects.filter(idempotency_key="same-key").count() == 1
    assert Payment.objects.filter(order=order).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_captures_with_one_key_capture_once(bare_order):
    order = bare_order()
    auth = authorise(order, APPROVE, key="auth")
    barrier = threading.Barrier(10)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(sandbox.capture(reference=auth.reference, idempotency_key="cap"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len({r.transaction_id for r in results}) == 1
    assert PaymentTransaction.objects.filter(kind="capture").count() == 1
