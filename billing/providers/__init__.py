"""Payment providers by name, and which one takes which payment method.

    from billing.providers import get_provider, provider_for_method
    result = provider_for_method("card").authorise(order_id=..., method="card", ...)

`settings.BILLING_CARD_PROVIDER` (default "sandbox") names the provider for
card and PayPal payments; bank transfers and net terms go to "manual". A
real gateway is one more `PaymentProvider` subclass registered here.
"""

from __future__ import annotations

from django.conf import settings

from billing.models import PaymentMethod
from billing.providers.base import (
    IdempotencyKeyReused,
    PaymentError,
    PaymentProvider,
    ProviderResult,
)
from billing.providers.manual import ManualProvider
from billing.providers.sandbox import SandboxProvider
from orders.payments import PaymentDetails

__all__ = [
    "IdempotencyKeyReused", "PaymentError", "PaymentProvider", "ProviderResult",
    "card_token", "get_provider", "provider_for_method", "register_provider",
]

_PROVIDERS: dict[str, PaymentProvider] = {}


def register_provider(provider: PaymentProvider) -> PaymentProvider:
    _PROVIDERS[provider.name] = provider
    return provider


register_provider(SandboxProvider())
register_provider(ManualProvider())


def get_provider(name: str) -> PaymentProvider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise LookupError(f"no payment provider named {name!r}") from None


def provider_for_method(method: str) -> PaymentProvider:
    if method in (PaymentMethod.CARD, PaymentMethod.PAYPAL):
        return get_provider(getattr(settings, "BILLING_CARD_PROVIDER", "sandbox"))
    if method in (PaymentMethod.BANK_TRANSFER, PaymentMethod.NET_TERMS):
        return get_provider("manual")
    raise PaymentError(f"unknown payment method {method!r}", code="unknown_method")


def card_token(payment: PaymentDetails) -> str | None:
    """The gateway's token for the payment's card number, which stands in for
    the number wherever it is stored (the approval's outbox row); None when
    the gateway refuses the number."""
    try:
        return provider_for_method(payment.method).tokenize_card(payment.card_number or "")
    except PaymentError:
        return None
