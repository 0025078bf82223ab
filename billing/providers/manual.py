"""The manual provider: bank transfers and purchases on account (net terms).

No gateway is asked. Authorising a bank transfer records money that is
expected (`pending`); authorising net terms records a purchase on account
(`authorised`: the credit check is the billing rules' job, not the
provider's). `capture` is how Accounting records that the money arrived;
`void` drops an expectation that will not be paid (order rejected or
cancelled); `refund` pays captured money back.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from billing.models import PaymentMethod, PaymentStatus, TransactionOutcome
from billing.providers.base import Decision, PaymentProvider


class ManualProvider(PaymentProvider):
    name = "manual"
    methods = (PaymentMethod.BANK_TRANSFER, PaymentMethod.NET_TERMS)
    reference_prefix = "man"
    capturable_statuses = (PaymentStatus.PENDING, PaymentStatus.AUTHORISED)
    voidable_statuses = (PaymentStatus.PENDING, PaymentStatus.AUTHORISED)

    def decide_authorisation(self, *, method: str, amount: Decimal, currency: str,
                             card_number: str | None) -> Decision:
        if method == PaymentMethod.BANK_TRANSFER:
            return Decision(outcome=TransactionOutcome.PENDING, status=PaymentStatus.PENDING,
                            message=_("Awaiting the bank transfer."))
        return Decision(outcome=TransactionOutcome.APPROVED, status=PaymentStatus.AUTHORISED,
                        message=_("On account, payable on terms."))
