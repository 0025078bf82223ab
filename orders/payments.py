"""Payment approval, inverted so `orders` never imports `billing`.

Billing registers its approver at start-up
(`register_payment_approver(billing.services.run_payment_approval)` in
`BillingConfig.ready()`). A placement writes an outbox row
(`enqueue_payment_approval`) in its own transaction; once it commits, the
placing process runs the row's handler, which calls the approver, so the
answer to the placement already says `reserved` or `on_hold`. A row the
process never got to (it died) goes to a worker through the relay.
The approver decides and calls back `orders.services.approve_order` /
`hold_order`.

Card numbers never enter the outbox table: before the row is written the
number is swapped for the gateway's token (billing registers the
tokenizer), and the approver authorises with the token. Without a token the
row carries no card at all and the approver asks the customer for one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from django.contrib.auth import get_user_model

from oms.lib import outbox
from oms.lib.actors import Actor

logger = logging.getLogger(__name__)

APPROVAL_HANDLER = "orders.request_payment_approval"


@dataclass(frozen=True)
class PaymentDetails:
    method: str  # "card" | "bank_transfer" | "net_terms" | "paypal"
    card_number: str | None = None  # never stored; billing keeps only last4
    idempotency_key: str | None = None
    card_token: str | None = None  # the gateway's token for card_number: safe to store

    def __repr__(self) -> str:  # keep card numbers out of logs and tracebacks
        masked = f"****{self.card_number[-4:]}" if self.card_number else None
        return (f"PaymentDetails(method={self.method!r}, card_number={masked!r}, "
                f"idempotency_key={self.idempotency_key!r}, card_token={self.card_token!r})")


_approver: Callable[..., None] | None = None
_checker: Callable[[PaymentDetails], dict[str, list[str]]] | None = None
_tokenizer: Callable[[PaymentDetails], str | None] | None = None


def register_payment_approver(func: Callable[..., None] | None) -> None:
    """Install the one function that decides on an order's payment (None:
    placed orders wait for a person)."""
    global _approver
    _approver = func


def register_payment_tokenizer(func: Callable[[PaymentDetails], str | None] | None) -> None:
    """Install the function that swaps a card number for the gateway's token
    (None when the gateway will not take it)."""
    global _tokenizer
    _tokenizer = func


def enqueue_payment_approval(*, order_id: int, payment: PaymentDetails | None,
                             actor: Actor) -> None:
    """Write the order's payment approval into the placing transaction.

    Nothing is written when no approver is registered: the order then stays
    `placed` until someone approves it by hand or its hold expires.
    """
    if _approver is None:
        logger.info("no payment approver registered; order %s waits for a person", order_id)
        return
    if payment is not None and payment.card_number:
        token = _tokenizer(payment) if _tokenizer is not None else None
        payment = replace(payment, card_number=None, card_token=token)
    outbox.enqueue(APPROVAL_HANDLER, {
        "order_id": order_id, "actor_id": getattr(actor, "pk", None),
        "payment": asdict(payment) if payment is not None else None,
    }, dedup_key=f"orders:payment-approval:{order_id}", run_here=True)


@outbox.handler(APPROVAL_HANDLER)
def request_payment_approval(payload: dict) -> None:
    """Hand a placed order to the registered approver (an outbox handler)."""
    if _approver is None:
        logger.info("no payment approver registered; order %s waits for a person",
                    payload["order_id"])
        return
    actor = (get_user_model().objects.filter(pk=payload["actor_id"]).first()
             if payload["actor_id"] is not None else None)
    payment = payload["payment"]
    _approver(order_id=payload["order_id"], actor=actor,
              payment=PaymentDetails(**payment) if payment is not None else None)


def register_payment_checker(
        func: Callable[[PaymentDetails], dict[str, list[str]]] | None) -> None:
    """Install the function that refuses unusable payment details: it returns
    field errors keyed `payment.<field>` (empty when the details will do)."""
    global _checker
    _checker = func


def check_payment_details(payment: PaymentDetails) -> dict[str, list[str]]:
    """Field errors for payment details that cannot work; {} without a checker."""
    return _checker(payment) if _checker is not None else {}


@dataclass(frozen=True)
class PaymentAdjustment:
    """What the payment side did with a change of the order's total.

    `action`: "authorised" (a further authorisation for an increase),
    "released" (part of an authorisation given back for a decrease),
    "none" (no open payment to adjust: invoiced on terms, or not paid yet).
    `declined`: the provider refused the increase; `message` says why."""

    action: str
    amount: str = "0"
    declined: bool = False
    message: str = ""


_adjuster: Callable[..., PaymentAdjustment] | None = None


def register_payment_adjuster(func: Callable[..., PaymentAdjustment] | None) -> None:
    """Install the function that moves an order's open payments to a new
    total (billing's): called as `func(order=..., old_total=..., new_total=...,
    key=..., actor=..., dry_run=...)` inside the change's transaction, after
    the order is locked; `dry_run`: only say what it would do (the preview)."""
    global _adjuster
    _adjuster = func


def adjust_payment(*, order: object, old_total: object, new_total: object, key: str,
                   actor: Actor, dry_run: bool = False) -> PaymentAdjustment:
    """Ask the registered adjuster; without one (orders alone) nothing to adjust."""
    if _adjuster is None or old_total == new_total:
        return PaymentAdjustment(action="none")
    return _adjuster(order=order, old_total=old_total, new_total=new_total, key=key,
                     actor=actor, dry_run=dry_run)
