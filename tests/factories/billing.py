"""Factories for billing: payment details with the sandbox test cards, and
payments made through the providers (never written by hand)."""

from __future__ import annotations

from billing.providers import ProviderResult, provider_for_method
from billing.providers.sandbox import APPROVE, DECLINE, INSUFFICIENT_FUNDS, NEEDS_REVIEW
from orders.models import Order
from orders.payments import PaymentDetails

__all__ = ["APPROVE", "DECLINE", "INSUFFICIENT_FUNDS", "NEEDS_REVIEW", "authorise", "card",
           "bank_transfer", "net_terms"]


def card(number: str = APPROVE, *, key: str | None = None) -> PaymentDetails:
    return PaymentDetails(method="card", card_number=number, idempotency_key=key)


def bank_transfer() -> PaymentDetails:
    return PaymentDetails(method="bank_transfer")


def net_terms() -> PaymentDetails:
    return PaymentDetails(method="net_terms")


def authorise(order: Order, *, method: str = "card", number: str | None = APPROVE,
              key: str = "factory") -> ProviderResult:
    """A payment on `order` through its provider, as a real authorisation makes it."""
    return provider_for_method(method).authorise(
        order_id=order.pk, method=method, amount=order.total_gross, currency=order.currency,
        idempotency_key=key, card_number=number if method == "card" else None)
