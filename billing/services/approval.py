"""Payment approval: decide whether a placed order may go to fulfilment.

`approve_order_payment` is the approver `orders` calls after a placement
commits (registered in `BillingConfig.ready()` through
`orders.payments.register_payment_approver`). It authorises the payment with
the provider for its method and applies the rules of the source documents
(DOMAIN.md step 2), first match wins:

1. blocked customer                 -> cancelled (orders refuses them already;
                                       this is the second line of defence)
2. card declined, insufficient funds, no or invalid card number
                                    -> on_hold (payment_declined); the customer
                                       is e-mailed a signed link to re-enter a card
3. the gateway wants a review       -> on_hold (manual)
4. prepaid customer paying by bank transfer, money not yet received
                                    -> on_hold (prepayment_missing); managers
                                       are e-mailed
5. on account (net terms, or bank transfer for a customer with payment terms)
   and the open orders on account plus the unpaid invoice balances plus this
   one, in the limit's currency, exceed the credit limit, or an exchange rate
   to convert them is missing       -> on_hold (credit_limit)
6. manual discounts above the limit of who entered them
                                    -> on_hold (discount_limit); approved by a
                                       manager only (orders.approve_discount)
6a. new customer                     -> on_hold (new_customer)
7. placed through an API token the customer does not allow on its account
   (`Order.account_unverified`)     -> on_hold (account_review); such an
                                       order is also prepaid for rules 4 and
                                       5: no net terms, no credit limit
8. otherwise (trusted, payment fine) -> approved (orders.services.approve_order)

The held orders wait in the approval queue (`billing.selectors`) for Sales or
Accounting: `approve_held_order` / `reject_held_order`. Holds for the credit
limit or a missing prepayment are released by Accounting or a manager only
(`orders.services.approve_order` checks `orders.release_credit_hold`).

Transactions: each entry point (`approve_order_payment`, `retry_card_payment`,
`approve_held_order`, `reject_held_order`) is one durable transaction that
locks the order row first (the orders lock order: order, then reservations,
then stock), records the provider's answer, moves the order through
`orders.services` (plain `atomic()`, composable) and queues its e-mails in
the outbox. So an expiry racing an approval waits for the lock and one of
them wins, and a payment is never recorded for an order change that rolled
back; the idempotency key derived from the order makes a retry reuse the
same authorisation.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from billing.locks import lock_order, lock_payment
from billing.models import OPEN_STATUSES, Payment, PaymentMethod, PaymentStatus
from billing.providers import PaymentError, ProviderResult, get_provider, provider_for_method
from billing.services.exposure import credit_exposure
from oms.currencies import MissingRate
from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.money import format_money as money
from orders import events as order_events
from orders import services as order_services
from orders.models import HoldReason, Order, StatusCause
from orders.payments import PaymentDetails

logger = logging.getLogger(__name__)

CARD_METHODS = (PaymentMethod.CARD, PaymentMethod.PAYPAL)
# What the gateway accepted: the money is held on the card (a review ends in
# a capture when a person approves the order, or a void).
CARD_ACCEPTED = (PaymentStatus.AUTHORISED, PaymentStatus.REVIEW)
CARD_LINK_SALT = "billing.card-retry"


def card_link_max_age() -> timedelta:
    return timedelta(hours=getattr(settings, "BILLING_CARD_LINK_MAX_AGE_HOURS", 72))


def card_retry_max_attempts() -> int:
    return getattr(settings, "BILLING_CARD_RETRY_MAX_ATTEMPTS", 5)


@dataclass(frozen=True)
class Verdict:
    approve: bool
    reason_code: str = ""
    reason_text: str = ""
    ask_for_card: bool = False
    signal_managers: bool = False
    # The reason as an orders StatusCause with its figures, so the timeline
    # says it in the reader's language (reason_text: the same, in this one).
    cause: dict[str, Any] = field(default_factory=dict)


def approve_order_payment(*, order_id: int, payment: PaymentDetails | None, actor: Actor) -> None:
    """Authorise the order's payment and approve or hold the order (rules above).

    Safe to call twice for the same order: a decided order is left alone and
    the authorisation key is derived from the order, so nothing is charged
    twice. Not durable: it runs in the outbox handler's transaction.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        if not order.awaits_payment_approval:
            logger.info("payment approval: order %s is %s, nothing to decide", order.number,
                        order.status)
            return
        customer = order.customer
        if customer.is_blocked:
            order_services.cancel_order(order_id=order.pk, actor=actor,
                                        reason=_("The customer is blocked and cannot order."))
            return
        method = (payment.method if payment else "") or order.payment_method or (
            customer.payment_preference)
        result, card_problem = _authorise_for_order(order, method, payment, actor)
        verdict = decide(order=order, method=method, result=result, card_problem=card_problem)
        _apply(order, verdict, result, actor)


def check_payment_details(payment: PaymentDetails) -> dict[str, list[str]]:
    """The checker registered with orders: details the provider of the method
    could never authorise (a mistyped card number), as placement field errors."""
    try:
        provider_for_method(payment.method).check_details(
            method=payment.method, card_number=payment.card_number)
    except PaymentError as exc:
        return {f"payment.{field}": messages
                for field, messages in (exc.field_errors or {"method": [exc.message]}).items()}
    return {}


def run_payment_approval(*, order_id: int, payment: PaymentDetails | None, actor: Actor) -> None:
    """The function registered with orders: `approve_order_payment` that never raises.

    It runs after the placement committed, inside the placing request; a
    failure here (provider down, a lost race) must not turn a placed order
    into an error page. The order then stays `placed` and shows up in the
    approval queue after a few minutes for a person to decide.
    """
    try:
        approve_order_payment(order_id=order_id, payment=payment, actor=actor)
    except Exception:
        logger.exception("payment approval of order %s failed; it waits in the queue",
                         order_id)


def _verdict(approve: bool, reason_code: str, cause: StatusCause, *, currency: str = "",
             figures: dict[str, Decimal] | None = None, **flags: bool) -> Verdict:
    data: dict[str, Any] = {"cause": cause.value}
    text = str(cause.label)
    if figures:
        data["figures"] = {name: {"amount": str(value), "currency": currency}
                           for name, value in figures.items()}
        text %= {name: money(value, currency) for name, value in figures.items()}
    return Verdict(approve, reason_code, text, cause=data, **flags)


def decide(*, order: Order, method: str, result: ProviderResult | None,
           card_problem: str = "") -> Verdict:
    """The rules, as a pure function of the order, its customer and the payment."""
    customer = order.customer
    if method in CARD_METHODS:
        if card_problem or result is None or result.status == PaymentStatus.DECLINED:
            text = card_problem or (result.message if result else "")
            if not text:
                return _verdict(False, HoldReason.PAYMENT_DECLINED, StatusCause.NO_CARD,
                                ask_for_card=True)
            return Verdict(False, HoldReason.PAYMENT_DECLINED, text, ask_for_card=True)
        if result.status == PaymentStatus.REVIEW:
            return _verdict(False, HoldReason.MANUAL, StatusCause.GATEWAY_REVIEW)
    # An unverified caller gets no terms: whatever the customer's are.
    prepaid = customer.is_prepaid or order.account_unverified
    if (method == PaymentMethod.BANK_TRANSFER and prepaid
            and (result is None or result.status == PaymentStatus.PENDING)):
        return _verdict(False, HoldReason.PREPAYMENT_MISSING, StatusCause.PREPAYMENT_MISSING,
                        signal_managers=True)
    if order.account_unverified and method == PaymentMethod.NET_TERMS:
        return _verdict(False, HoldReason.ACCOUNT_REVIEW, StatusCause.ACCOUNT_REVIEW)
    on_account = method == PaymentMethod.NET_TERMS or (
        method == PaymentMethod.BANK_TRANSFER and not prepaid)
    if on_account:
        held = credit_verdict(order)
        if held is not None:
            return held
    if order.discount_over_limit:
        return _verdict(False, HoldReason.DISCOUNT_LIMIT, StatusCause.DISCOUNT_LIMIT,
                        currency=order.currency,
                        figures={"discount": order.manual_discount,
                                 "limit": order.discount_limit or Decimal("0.00")})
    if not customer.is_trusted:
        return _verdict(False, HoldReason.NEW_CUSTOMER, StatusCause.NEW_CUSTOMER)
    if order.account_unverified:
        return _verdict(False, HoldReason.ACCOUNT_REVIEW, StatusCause.ACCOUNT_REVIEW)
    return _verdict(True, "", StatusCause.AUTO_APPROVED)


def credit_verdict(order: Order) -> Verdict | None:
    """A credit-limit hold saying its figures, or None when the order fits.

    The exposure (billing.services.exposure) is in the limit's currency; an
    exchange rate missing for any amount holds the order and says which,
    rather than comparing a sum that leaves it out."""
    try:
        exposure = credit_exposure(customer=order.customer, order=order)
    except MissingRate as missing:
        cause = StatusCause.CREDIT_RATE_MISSING
        figures = {"from": missing.base, "to": missing.quote}
        return Verdict(False, HoldReason.CREDIT_LIMIT, str(cause.label) % figures,
                       cause={"cause": cause.value, "figures": figures})
    if not exposure.exceeds_limit:
        return None
    amounts = {"open": (exposure.open_orders, exposure.currency),
               "invoices": (exposure.unpaid_invoices, exposure.currency),
               "order": (exposure.order_amount, exposure.order_currency),
               "total": (exposure.total, exposure.currency),
               "limit": (exposure.limit, exposure.currency)}
    cause = StatusCause.CREDIT_EXPOSURE
    if exposure.order_currency != exposure.currency:
        cause = StatusCause.CREDIT_EXPOSURE_CONVERTED
        amounts["order_converted"] = (exposure.order, exposure.currency)
    text = str(cause.label) % {name: money(amount, currency)
                               for name, (amount, currency) in amounts.items()}
    return Verdict(False, HoldReason.CREDIT_LIMIT, text, cause={
        "cause": cause.value,
        "figures": {name: {"amount": str(amount), "currency": currency}
                    for name, (amount, currency) in amounts.items()}})


def _authorise_for_order(order: Order, method: str, payment: PaymentDetails | None,
                         actor: Actor) -> tuple[ProviderResult | None, str]:
    """Authorise with the provider of `method`; (result, card problem text)."""
    card = payment and (payment.card_token or payment.card_number)
    if method == PaymentMethod.CARD and not card:
        return None, _("No card details were given.")
    # Derived from the order, so a redelivered approval never charges twice.
    key = f"order:{order.pk}:authorise"
    if payment and payment.idempotency_key:
        key = f"order:{order.pk}:{payment.idempotency_key}"[:100]
    try:
        return provider_for_method(method).authorise(
            order_id=order.pk, method=method, amount=order.total_gross,
            currency=order.currency, idempotency_key=key,
            card_number=card or None, actor=actor), ""
    except PaymentError as exc:
        if method in CARD_METHODS:
            return None, exc.message
        raise


def _apply(order: Order, verdict: Verdict, result: ProviderResult | None, actor: Actor) -> None:
    if verdict.approve:
        order_services.approve_order(order_id=order.pk, actor=actor, reason=verdict.reason_text,
                                     locked=order, cause=verdict.cause)
        return
    order_services.hold_order(order_id=order.pk, reason_code=verdict.reason_code,
                              reason_text=verdict.reason_text, actor=actor, cause=verdict.cause)
    if verdict.ask_for_card:
        outbox.enqueue("billing.card_retry_email", {"order_id": order.pk},
                       dedup_key=f"billing:card-retry:{order.pk}:"
                                 f"{result.payment_id if result else 'none'}")
    if verdict.signal_managers:
        outbox.enqueue("billing.prepayment_missing_email", {"order_id": order.pk},
                       dedup_key=f"billing:prepayment-missing:{order.pk}")


def card_link_token(*, order_id: int) -> str:
    return signing.TimestampSigner(salt=CARD_LINK_SALT).sign_object({"order": order_id})


def order_id_from_card_link(token: str) -> int:
    """The order id in a valid, unexpired link; ApplicationError otherwise."""
    try:
        data = signing.TimestampSigner(salt=CARD_LINK_SALT).unsign_object(
            token, max_age=card_link_max_age())
    except signing.SignatureExpired:
        raise ApplicationError(_("This payment link has expired. Please contact us for a "
                                 "new one."), code="link_expired")
    except signing.BadSignature:
        raise ApplicationError(_("This payment link is not valid."), code="link_invalid")
    return int(data["order"])


def order_awaits_card(order: Order) -> bool:
    return order.is_held_for(HoldReason.PAYMENT_DECLINED)


def retry_card_payment(*, order_id: int, card_number: str, attempt_key: str,
                       actor: Actor = None) -> ProviderResult:
    """The customer's new card: authorise it and, when the rules allow, approve.

    `attempt_key` comes from the form so a double submit is one charge. On
    a decline the order stays on hold and the customer may try again (up to
    a limit). A card the gateway accepts (authorised, or held for its review)
    ends the wait for a card, so the link takes no second one: the other
    rules run again, a trusted customer's order is approved, otherwise it is
    held for the reason that remains, with the payment on its timeline.
    """
    with transaction.atomic(durable=True):
        order = lock_order(order_id)
        # The order lock serialises concurrent retries: the second one finds
        # the first one's open payment (or the order no longer waiting).
        if not order_awaits_card(order) or Payment.objects.filter(
                order_id=order.pk, method__in=CARD_METHODS, status__in=OPEN_STATUSES).exists():
            raise NotAllowed(_("This order does not need new payment details any more."),
                             code="settled")
        # The link is public: cap the tries so it cannot be used to test stolen cards.
        declined = Payment.objects.filter(order_id=order.pk, status=PaymentStatus.DECLINED,
                                          idempotency_key__contains=":retry:").count()
        if declined >= card_retry_max_attempts():
            raise NotAllowed(_("Too many attempts with this link. Please contact us to pay."),
                             code="too_many_attempts")
        result = provider_for_method(PaymentMethod.CARD).authorise(
            order_id=order.pk, method=PaymentMethod.CARD, amount=order.total_gross,
            currency=order.currency, idempotency_key=f"order:{order.pk}:retry:{attempt_key}",
            card_number=card_number, actor=actor)
        if result.status not in CARD_ACCEPTED:
            return result
        verdict = decide(order=order, method=PaymentMethod.CARD, result=result)
        if verdict.approve:
            order_services.approve_order(
                order_id=order.pk, actor=actor,
                reason=_("The customer re-entered card details; payment approved."))
            return result
        order_services.change_hold_reason(order_id=order.pk, reason_code=verdict.reason_code,
                                          reason_text=verdict.reason_text, actor=actor,
                                          cause=verdict.cause)
        if result.status == PaymentStatus.AUTHORISED:
            order_events.card_authorised(order, actor=actor, brand=result.brand,
                                         last4=result.last4, waiting_for=verdict.reason_code)
    return result


def approve_held_order(*, order_id: int, actor: Actor, reason: str = "") -> Order:
    """A person approves an order waiting for a decision (Sales, Accounting;
    a credit or prepayment hold: Accounting or a manager only)."""
    with transaction.atomic(durable=True):
        order = lock_order(order_id)
        if not can_proceed(order.approve):
            raise _no_decision(order)
        return order_services.approve_order(order_id=order.pk, actor=actor,
                                            reason=reason.strip() or _("Approved by hand."))


def reject_held_order(*, order_id: int, actor: Actor, reason: str) -> Order:
    """A person rejects a waiting order: cancelled, stock released, payment voided."""
    reason = (reason or "").strip()
    if not reason:
        message = _("Give a reason for the rejection.")
        raise ApplicationError(message, field_errors={"reason": [message]})
    with transaction.atomic(durable=True):
        order = lock_order(order_id)
        if order.awaits_payment_approval:
            result = order_services.cancel_order(order_id=order.pk, actor=actor, reason=reason)
        elif can_proceed(order.reject):
            result = order_services.reject_order(order_id=order.pk, actor=actor, reason=reason)
        else:
            raise _no_decision(order)
        void_open_payments(order_id=order.pk, actor=actor)
    return result


def _no_decision(order: Order) -> NotAllowed:
    return NotAllowed(_("Order %(number)s is %(status)s and waits for no decision.")
                      % {"number": order.number, "status": order.get_status_display().lower()},
                      code="illegal_transition")


def record_payment_received(*, payment_id: int, actor: Actor) -> ProviderResult:
    """Accounting records that the money of a payment arrived (capture).

    For an order held for its missing prepayment, the rules then run again:
    a trusted customer's order is approved at once; otherwise it keeps
    waiting for a person, with the payment noted on its timeline.
    """
    payment = Payment.objects.filter(pk=payment_id).only("order_id").first()
    if payment is None:
        raise ApplicationError(_("Payment not found."), code="not_found")
    with transaction.atomic(durable=True):
        order = lock_order(payment.order_id)
        payment = lock_payment(pk=payment_id)
        assert payment is not None  # payments are never deleted
        result = get_provider(payment.provider).capture(
            reference=payment.provider_reference,
            idempotency_key=f"payment:{payment.pk}:capture", actor=actor)
        if order.is_held_for(HoldReason.PREPAYMENT_MISSING):
            verdict = decide(order=order, method=payment.method, result=result)
            if verdict.approve:
                order_services.approve_order(order_id=order.pk, actor=actor,
                                             reason=_("The prepayment was received."))
            else:
                order_events.prepayment_received(order, actor=actor,
                                                 waiting_for=verdict.reason_code)
    return result


def void_payment(*, payment_id: int, actor: Actor) -> ProviderResult:
    """Release one open authorisation or expectation by hand."""
    with transaction.atomic(durable=True):
        payment = lock_payment(pk=payment_id)
        if payment is None:
            raise ApplicationError(_("Payment not found."), code="not_found")
        return get_provider(payment.provider).void(
            reference=payment.provider_reference,
            idempotency_key=f"payment:{payment.pk}:void", actor=actor)


def void_open_payments(*, order_id: int, actor: Actor) -> int:
    """Release every authorisation or expectation still open on the order.

    Runs inside the caller's transaction (plain atomic)."""
    voided = 0
    with transaction.atomic():
        for payment in Payment.objects.filter(order_id=order_id, status__in=OPEN_STATUSES):
            get_provider(payment.provider).void(
                reference=payment.provider_reference,
                idempotency_key=f"order:{order_id}:void:{payment.pk}", actor=actor)
            voided += 1
    return voided


def void_payments_of_closed_orders(*, limit: int = 500) -> int:
    """Release the authorisations of orders that ended without fulfilment.

    Orders expire (beat sweep) or get cancelled in `orders`, which never calls
    billing; this periodic pass voids what they left open so no card keeps
    money blocked. One provider call per payment, as a real gateway needs;
    each in its own transaction so one refusal does not stop the rest.
    """
    ids = list(Payment.objects.filter(Order.closed_q("order__"), status__in=OPEN_STATUSES)
               .order_by("pk").values_list("pk", flat=True)[:limit])
    voided = 0
    for payment_id in ids:
        try:
            void_payment(payment_id=payment_id, actor=None)
        except ApplicationError:
            logger.warning("could not void payment %s of a closed order", payment_id,
                           exc_info=True)
        else:
            voided += 1
    return voided


def new_attempt_key() -> str:
    return uuid.uuid4().hex
