"""The sandbox card gateway: behaves like a real one, charges nobody.

Deterministic test card numbers (any expiry in the future, any CVC; spaces
and dashes are ignored):

=====================  ============================================  ==========
card number            result of authorise                           status
=====================  ============================================  ==========
4242 4242 4242 4242    approved                                      authorised
4000 0000 0000 0002    declined (``card_declined``)                  declined
4000 0000 0000 9995    declined (``insufficient_funds``)             declined
4000 0000 0000 0101    held for review by the gateway (fraud check)  review
=====================  ============================================  ==========

Any other number that passes the Luhn check is approved like 4242...; a
number that fails it, or is not 12 to 19 digits, is refused with a
``PaymentError`` (HTTP 400, field ``card_number``) and nothing is recorded.
PayPal payments through the sandbox are always approved.

Only the brand and the last four digits are stored; the full number never
leaves this module. `tokenize_card` gives a token that `authorise` takes in
place of the number, like a real gateway's vault; a sandbox token spells out
what the number would do (``tok_sandbox:approve:Visa:4242``), so any process
can authorise with it. Its state (payments and every operation on them) lives in
the database, so idempotency holds across processes: the same idempotency key
twice gives one charge.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.models import PaymentMethod, PaymentStatus, TransactionOutcome
from billing.providers.base import Decision, PaymentError, PaymentProvider

APPROVE = "4242424242424242"
DECLINE = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
NEEDS_REVIEW = "4000000000000101"

TOKEN_PREFIX = "tok_sandbox:"  # noqa: S105  a card token, not a password

TEST_CARDS = {
    APPROVE: "approve",
    DECLINE: "decline",
    INSUFFICIENT_FUNDS: "insufficient_funds",
    NEEDS_REVIEW: "review",
}


def normalise_card_number(raw: str | None) -> str:
    return re.sub(r"[\s-]", "", raw or "")


def luhn_valid(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"34", "37"}:
        return "Amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "Mastercard"
    if number.startswith(("6011", "65")):
        return "Discover"
    return "Card"


def validate_card_number(raw: str | None) -> str:
    """The digits of a usable card number, or PaymentError with a field error."""
    number = normalise_card_number(raw)
    if not number:
        message = _("Enter a card number.")
    elif not number.isdigit() or not 12 <= len(number) <= 19:
        message = _("A card number has 12 to 19 digits.")
    elif not luhn_valid(number):
        message = _("This card number is not valid; please check it for typing errors.")
    else:
        return number
    raise PaymentError(message, field_errors={"card_number": [message]}, code="invalid_card")


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    methods = (PaymentMethod.CARD, PaymentMethod.PAYPAL)
    reference_prefix = "sbx"

    def check_details(self, *, method: str, card_number: str | None) -> None:
        # No number at all is not refused here: the customer is asked for one
        # by e-mail after placement (the approval rules).
        if method == PaymentMethod.CARD and normalise_card_number(card_number):
            validate_card_number(card_number)

    def tokenize_card(self, card_number: str) -> str:
        try:
            number = validate_card_number(card_number)
        except PaymentError:  # refused again by authorise, as the number would be
            return f"{TOKEN_PREFIX}invalid::"
        return (f"{TOKEN_PREFIX}{TEST_CARDS.get(number, 'approve')}:{card_brand(number)}:"
                f"{number[-4:]}")

    def decide_authorisation(self, *, method: str, amount: Decimal, currency: str,
                             card_number: str | None) -> Decision:
        if method == PaymentMethod.PAYPAL:
            return Decision(outcome=TransactionOutcome.APPROVED, status=PaymentStatus.AUTHORISED,
                            message=_("Approved"), brand="PayPal")
        if card_number and card_number.startswith(TOKEN_PREFIX):
            behaviour, brand, last4 = card_number.removeprefix(TOKEN_PREFIX).split(":")
            if behaviour == "invalid":
                message = _("This card number is not valid; please check it for typing errors.")
                raise PaymentError(message, field_errors={"card_number": [message]},
                                   code="invalid_card")
        else:
            number = validate_card_number(card_number)
            brand, last4 = card_brand(number), number[-4:]
            behaviour = TEST_CARDS.get(number, "approve")
        if behaviour == "decline":
            return Decision(outcome=TransactionOutcome.DECLINED, status=PaymentStatus.DECLINED,
                            decline_code="card_declined",
                            message=_("The card was declined."), brand=brand, last4=last4)
        if behaviour == "insufficient_funds":
            return Decision(outcome=TransactionOutcome.INSUFFICIENT_FUNDS,
                            status=PaymentStatus.DECLINED, decline_code="insufficient_funds",
                            message=_("The card has insufficient funds."),
                            brand=brand, last4=last4)
        if behaviour == "review":
            return Decision(outcome=TransactionOutcome.REVIEW, status=PaymentStatus.REVIEW,
                            message=_("The payment needs a manual review."),
                            brand=brand, last4=last4)
        return Decision(outcome=TransactionOutcome.APPROVED, status=PaymentStatus.AUTHORISED,
                        message=_("Approved"), brand=brand, last4=last4)
