"""What every payment provider offers, and the idempotency they share.

A provider authorises an amount, then captures, voids or refunds it. Each
operation carries an idempotency key: a second call with the same key (and
the same request) answers with the stored result of the first and changes
nothing, so a retried HTTP request or a double click never charges twice. A
call with a known key but a different request is refused.

The stored `PaymentTransaction` row, unique per (provider, idempotency key),
is the claim: PostgreSQL makes a concurrent insert of the same key wait for
the first transaction and then fail, and the loser answers with the winner's
row. Providers run inside the caller's transaction (plain `atomic()`
savepoints), so a payment is never recorded for an order change that rolled
back.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from billing.locks import lock_payment
from billing.models import (
    Payment,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionOutcome,
)
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.money import quantize_money, to_decimal


class PaymentError(ApplicationError):
    """The provider refused the request itself (bad card number, bad amount)."""


class IdempotencyKeyReused(ApplicationError):
    """A known idempotency key arrived with a different request."""

    status = 422


@dataclass(frozen=True)
class ProviderResult:
    """What a provider answered; the same object comes back on a replay."""

    payment_id: int
    transaction_id: int
    provider: str
    kind: str  # TransactionKind
    outcome: str  # TransactionOutcome
    status: str  # PaymentStatus of the payment after the operation
    reference: str  # the payment's provider reference
    amount: Decimal
    currency: str
    last4: str = ""
    brand: str = ""
    decline_code: str = ""
    message: str = ""
    replayed: bool = False

    @property
    def approved(self) -> bool:
        return self.outcome in (TransactionOutcome.APPROVED, TransactionOutcome.SUCCEEDED)


@dataclass(frozen=True)
class Decision:
    """A provider's verdict on an authorisation before it is recorded."""

    outcome: str
    status: str
    decline_code: str = ""
    message: str = ""
    brand: str = ""
    last4: str = ""


def _result(txn: PaymentTransaction, payment: Payment, *, replayed: bool) -> ProviderResult:
    return ProviderResult(
        payment_id=payment.pk, transaction_id=txn.pk, provider=txn.provider, kind=txn.kind,
        outcome=txn.outcome, status=txn.payment_status, reference=payment.provider_reference,
        amount=txn.amount, currency=txn.currency, last4=payment.last4, brand=payment.card_brand,
        decline_code=txn.decline_code, message=txn.message, replayed=replayed,
    )


def fingerprint(**request: object) -> str:
    """Stable hash of a request's meaningful fields (never a card number)."""
    body = json.dumps({k: str(v) for k, v in sorted(request.items())}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _check_key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise PaymentError(_("An idempotency key of 1 to 100 characters is required."),
                           field_errors={"idempotency_key": [_("Required, at most 100 "
                                                               "characters.")]})
    return key


class PaymentProvider(ABC):
    """Base of every provider: the four operations, idempotent by key."""

    name: str = ""
    methods: tuple[str, ...] = ()
    reference_prefix: str = "pay"

    @abstractmethod
    def decide_authorisation(self, *, method: str, amount: Decimal, currency: str,
                             card_number: str | None) -> Decision:
        """Validate the request (raise PaymentError) and say how it ends."""

    def check_details(self, *, method: str, card_number: str | None) -> None:
        """Refuse details that can never be authorised (PaymentError with field
        errors) before an order is placed; nothing is sent anywhere. By
        default every detail may be tried."""
        return None

    def tokenize_card(self, card_number: str) -> str:
        """The gateway's token for a card number: `authorise` takes it in
        place of the number. A provider that takes no cards refuses."""
        raise PaymentError(_("This provider does not take %(method)s payments.")
                           % {"method": "card"})

    def authorise(self, *, order_id: int, method: str, amount: Decimal, currency: str,
                  idempotency_key: str, card_number: str | None = None,
                  actor: Actor = None) -> ProviderResult:
        """Ask for `amount`; a decline is a result, not an error."""
        key = _check_key(idempotency_key)
        if method not in self.methods:
            raise PaymentError(_("This provider does not take %(method)s payments.")
                               % {"method": method})
        amount = self._positive(amount)
        decision = self.decide_authorisation(method=method, amount=amount, currency=currency,
                                             card_number=card_number)
        print_ = fingerprint(kind=TransactionKind.AUTHORISE, order=order_id, method=method,
                             amount=amount, currency=currency, last4=decision.last4,
                             brand=decision.brand)

        def record() -> PaymentTransaction:
            payment = Payment.objects.create(
                order_id=order_id, provider=self.name, method=method, amount=amount,
                currency=currency, status=decision.status, card_brand=decision.brand,
                last4=decision.last4, provider_reference=self._new_reference(),
                idempotency_key=key, decline_code=decision.decline_code,
                message=decision.message[:255], created_by=_user(actor),
            )
            return PaymentTransaction.objects.create(
                payment=payment, provider=self.name, kind=TransactionKind.AUTHORISE,
                outcome=decision.outcome, amount=amount, currency=currency,
                idempotency_key=key, request_fingerprint=print_,
                provider_reference=payment.provider_reference,
                payment_status=decision.status, decline_code=decision.decline_code,
                message=decision.message[:255], actor=_user(actor),
            )

        return self._once(key, print_, record)

    def capture(self, *, reference: str, idempotency_key: str, amount: Decimal | None = None,
                actor: Actor = None, partial: bool = False) -> ProviderResult:
        """Take money that was authorised (all of it unless `amount` says less).

        `partial`: one of several captures of the authorisation (one per
        shipment); a payment captured in part then takes further captures
        up to what was authorised. Without it a captured payment is final.
        """

        def apply(payment: Payment) -> tuple[Decimal, str]:
            further = partial and payment.is_captured and can_proceed(payment.capture_more)
            if payment.status not in self.capturable_statuses and not further:
                raise NotAllowed(_("A %(status)s payment cannot be captured.")
                                 % {"status": payment.get_status_display()})
            most = payment.capturable_rest if further else payment.amount
            value = most if amount is None else self._positive(amount)
            if value > most:
                raise PaymentError(_("Cannot capture more than was authorised."),
                                   field_errors={"amount": [_("At most %(max)s.")
                                                            % {"max": most}]})
            if further:
                payment.capture_more(value)
            else:
                payment.capture(value)
            return value, ""

        return self._follow_up(TransactionKind.CAPTURE, reference, idempotency_key, amount,
                               actor, apply)

    def void(self, *, reference: str, idempotency_key: str, actor: Actor = None) -> ProviderResult:
        """Release an authorisation that will not be captured."""

        def apply(payment: Payment) -> tuple[Decimal, str]:
            if payment.status not in self.voidable_statuses:
                raise NotAllowed(_("A %(status)s payment cannot be voided.")
                                 % {"status": payment.get_status_display()})
            payment.void()
            return payment.amount, ""

        return self._follow_up(TransactionKind.VOID, reference, idempotency_key, None, actor,
                               apply)

    def refund(self, *, reference: str, idempotency_key: str, amount: Decimal | None = None,
               actor: Actor = None) -> ProviderResult:
        """Pay back captured money, in one go or in parts."""

        def apply(payment: Payment) -> tuple[Decimal, str]:
            if not payment.is_captured:
                raise NotAllowed(_("Only a captured payment can be refunded."))
            refundable = payment.captured_amount - payment.refunded_amount
            value = refundable if amount is None else self._positive(amount)
            if value > refundable:
                raise PaymentError(_("Cannot refund more than the %(max)s still captured.")
                                   % {"max": refundable},
                                   field_errors={"amount": [_("At most %(max)s.")
                                                            % {"max": refundable}]})
            payment.refund(value)
            return value, ""

        return self._follow_up(TransactionKind.REFUND, reference, idempotency_key, amount,
                               actor, apply)

    def decide_increase(self, *, payment: Payment, amount: Decimal) -> Decision:
        """Whether the gateway authorises `amount` more on an open payment
        (an incremental authorisation). By default it does."""
        return Decision(outcome=TransactionOutcome.APPROVED, status=payment.status)

    def adjust(self, *, reference: str, amount: Decimal, idempotency_key: str,
               actor: Actor = None) -> ProviderResult:
        """Move an open authorisation to `amount`: more is a further
        authorisation the gateway may decline (a result, not an error, and
        the payment keeps its amount); less releases the difference."""
        key = _check_key(idempotency_key)
        value = self._positive(amount)
        print_ = fingerprint(kind=TransactionKind.ADJUST, reference=reference, amount=value)
        with transaction.atomic():
            payment = lock_payment(provider=self.name, provider_reference=reference)
            if payment is None:
                raise PaymentError(_("Unknown payment reference %(ref)s.") % {"ref": reference})
            replay = self._replay(key, print_)
            if replay is not None:
                return replay

            def record() -> PaymentTransaction:
                if payment.status not in self.voidable_statuses + (PaymentStatus.PENDING,):
                    raise NotAllowed(_("A %(status)s payment cannot be adjusted.")
                                     % {"status": payment.get_status_display()})
                decision = Decision(outcome=TransactionOutcome.SUCCEEDED, status=payment.status)
                if value > payment.amount:
                    decision = self.decide_increase(payment=payment,
                                                    amount=value - payment.amount)
                if decision.outcome in (TransactionOutcome.APPROVED,
                                        TransactionOutcome.SUCCEEDED):
                    payment.amount = value
                    payment.save(update_fields=["amount", "updated_at"])
                return PaymentTransaction.objects.create(
                    payment=payment, provider=self.name, kind=TransactionKind.ADJUST,
                    outcome=decision.outcome, amount=value, currency=payment.currency,
                    idempotency_key=key, request_fingerprint=print_,
                    provider_reference=payment.provider_reference,
                    payment_status=payment.status, decline_code=decision.decline_code,
                    message=decision.message[:255], actor=_user(actor))

            return self._once(key, print_, record)

    capturable_statuses: tuple[str, ...] = (PaymentStatus.AUTHORISED, PaymentStatus.REVIEW)
    voidable_statuses: tuple[str, ...] = (PaymentStatus.AUTHORISED, PaymentStatus.REVIEW)

    def _follow_up(self, kind: str, reference: str, idempotency_key: str,
                   amount: Decimal | None, actor: Actor,
                   apply: Callable[[Payment], tuple[Decimal, str]]) -> ProviderResult:
        key = _check_key(idempotency_key)
        print_ = fingerprint(kind=kind, reference=reference,
                             amount="" if amount is None else quantize_money(amount))
        with transaction.atomic():
            # One payment at a time: a second call with the same key waits
            # here, then finds the first call's row and replays it.
            payment = lock_payment(provider=self.name, provider_reference=reference)
            if payment is None:
                raise PaymentError(_("Unknown payment reference %(ref)s.") % {"ref": reference})
            replay = self._replay(key, print_)
            if replay is not None:
                return replay

            def record() -> PaymentTransaction:
                value, message = apply(payment)
                payment.save(update_fields=["status", "captured_amount", "refunded_amount",
                                            "updated_at"])
                return PaymentTransaction.objects.create(
                    payment=payment, provider=self.name, kind=kind,
                    outcome=TransactionOutcome.SUCCEEDED, amount=value,
                    currency=payment.currency, idempotency_key=key, request_fingerprint=print_,
                    provider_reference=payment.provider_reference,
                    payment_status=payment.status, message=message, actor=_user(actor),
                )

            return self._once(key, print_, record)

    def _once(self, key: str, print_: str, record: Callable[[], PaymentTransaction]
              ) -> ProviderResult:
        replay = self._replay(key, print_)
        if replay is not None:
            return replay
        try:
            with transaction.atomic():
                txn = record()
        except IntegrityError:
            # A concurrent call with this key committed first; our savepoint
            # rolled back everything we wrote. Answer with its result.
            replay = self._replay(key, print_)
            if replay is None:
                raise
            return replay
        return _result(txn, txn.payment, replayed=False)

    def _replay(self, key: str, print_: str) -> ProviderResult | None:
        txn = (PaymentTransaction.objects.select_related("payment")
               .filter(provider=self.name, idempotency_key=key).first())
        if txn is None:
            return None
        if txn.request_fingerprint != print_:
            raise IdempotencyKeyReused(
                _("This idempotency key was already used for a different payment request."),
                code="idempotency_key_reused")
        return _result(txn, txn.payment, replayed=True)

    def _new_reference(self) -> str:
        return f"{self.reference_prefix}_{secrets.token_hex(12)}"

    @staticmethod
    def _positive(amount: Decimal) -> Decimal:
        try:
            value = quantize_money(to_decimal(amount))
        except (TypeError, ValueError):
            raise PaymentError(_("The amount is not a number."),
                               field_errors={"amount": [_("Enter an amount.")]})
        if value <= 0:
            raise PaymentError(_("The amount must be greater than zero."),
                               field_errors={"amount": [_("Must be greater than zero.")]})
        return value


def _user(actor: Actor) -> Actor:
    """Actors may be users, or None for the system."""
    return actor if getattr(actor, "pk", None) is not None else None
