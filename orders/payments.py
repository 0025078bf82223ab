"""Payment approval, inverted so `orders` never imports `billing`.

Billing registers its approver at start-up
(`register_payment_approver(billing.services.approve_order_payment)` in
`BillingConfig.ready()`); orders calls `request_payment_approval` after a
placement commits. The approver decides and calls back
`orders.services.approve_order` / `hold_order`.

Billing also registers a checker of the payment details (a card number that
cannot be a card number), which placement runs with its other validation so
bad details are refused up front with a field error and nothing is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from oms.lib.actors import Actor

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaymentDetails:
    method: str  # "card" | "bank_transfer" | "net_terms" | "paypal"
    card_number: str | None = None  # never stored; billing keeps only last4
    idempotency_key: str | None = None

    def __repr__(self) -> str:  # keep card numbers out of logs and tracebacks
        masked = f"****{self.card_number[-4:]}" if self.card_number else None
        return (f"PaymentDetails(method={self.method!r}, card_number={masked!r}, "
                f"idempotency_key={self.idempotency_key!r})")


_approver: Callable[..., None] | None = None
_checker: Callable[[PaymentDetails], dict[str, list[str]]] | None = None


def register_payment_approver(func: Callable[..., None] | None) -> None:
    """Install the one function that decides on an order's payment (None:
    placed orders wait for a person)."""
    global _approver
    _approver = func


def request_payment_approval(*, order_id: int, payment: PaymentDetails | None,
                             actor: Actor) -> None:
    """Hand a freshly placed order to the registered approver (in-process).

    Called after the placement commits; a no-op when no approver is registered
    (the order then stays `placed` until someone approves it by hand or its
    hold expires).
    """
    if _approver is None:
        logger.info("no payment approver registered; order %s waits for a person", order_id)
        return
    _approver(order_id=order_id, payment=payment, actor=actor)


def register_payment_checker(
        func: Callable[[PaymentDetails], dict[str, list[str]]] | None) -> None:
    """Install the function that refuses unusable payment details: it returns
    field errors keyed `payment.<field>` (empty when the details will do)."""
    global _checker
    _checker = func


def check_payment_details(payment: PaymentDetails) -> dict[str, list[str]]:
    """Field errors for payment details that cannot work; {} without a checker."""
    return _checker(payment) if _checker is not None else {}
