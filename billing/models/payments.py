"""Payments: one attempt to get an order paid, and every provider operation on it."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from oms.lib.money import MONEY_DIGITS, MONEY_PLACES
from orders.models import PaymentMethod


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # manual: money expected (bank transfer not yet received)
    AUTHORISED = "authorised", _("Authorised")  # funds held / purchase on account accepted
    DECLINED = "declined", _("Declined")  # refused by the gateway (also insufficient funds)
    REVIEW = "review", _("Needs review")  # the gateway flagged it; a person decides
    CAPTURED = "captured", _("Captured")  # money taken
    VOIDED = "voided", _("Voided")  # authorisation released before capture
    REFUNDED = "refunded", _("Refunded")  # captured amount fully paid back


# Statuses in which an authorisation still holds money or an expectation.
OPEN_STATUSES = (PaymentStatus.PENDING, PaymentStatus.AUTHORISED, PaymentStatus.REVIEW)


class Payment(FSMModelMixin, models.Model):
    """One attempt to get an order paid, as the provider reported it.

    The provider sets the first status at authorisation; every later change
    is a transition below, run by `billing.providers.base`.
    """

    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="payments")
    provider = models.CharField(_("provider"), max_length=30)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), max_digits=MONEY_DIGITS,
                                 decimal_places=MONEY_PLACES)
    currency = models.CharField(_("currency"), max_length=3)
    status = FSMField(_("status"), max_length=12, choices=PaymentStatus.choices, protected=True)
    captured_amount = models.DecimalField(_("captured amount"), max_digits=MONEY_DIGITS,
                                          decimal_places=MONEY_PLACES, default=0)
    refunded_amount = models.DecimalField(_("refunded amount"), max_digits=MONEY_DIGITS,
                                          decimal_places=MONEY_PLACES, default=0)
    card_brand = models.CharField(_("card brand"), max_length=20, blank=True)
    last4 = models.CharField(_("card last 4"), max_length=4, blank=True)
    # The provider's id for this payment; capture/void/refund name it.
    provider_reference = models.CharField(_("provider reference"), max_length=64, unique=True)
    # Key of the authorisation that created this payment.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    decline_code = models.CharField(_("decline code"), max_length=40, blank=True)
    message = models.CharField(_("provider message"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["order", "-id"], name="billing_payment_order_idx"),
            models.Index(fields=["status", "-created_at"], name="billing_payment_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0),
                                   name="billing_payment_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(captured_amount__gte=0)
                & models.Q(captured_amount__lte=models.F("amount")),
                name="billing_payment_captured_within_amount"),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0)
                & models.Q(refunded_amount__lte=models.F("captured_amount")),
                name="billing_payment_refunded_within_captured"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_reference} {self.amount} {self.currency} ({self.status})"

    # --- Transitions: they only change fields; the provider checks what its
    # gateway allows (`capturable_statuses`), saves, and records the transaction.

    @transition(field=status, source=OPEN_STATUSES, target=PaymentStatus.CAPTURED)
    def capture(self, amount: Decimal) -> None:
        self.captured_amount = amount

    @transition(field=status, source=PaymentStatus.CAPTURED, target=PaymentStatus.CAPTURED,
                conditions=[lambda payment: cast(Payment, payment).capturable_rest > 0])
    def capture_more(self, amount: Decimal) -> None:
        """A further part of the authorisation is taken (one capture per
        shipment when each shipment is invoiced: a gateway's multi-capture)."""
        self.captured_amount += amount

    @property
    def capturable_rest(self) -> Decimal:
        """What an authorisation still allows to capture: none once any of it
        was paid back."""
        if self.refunded_amount:
            return Decimal("0.00")
        return self.amount - self.captured_amount

    @transition(field=status, source=OPEN_STATUSES, target=PaymentStatus.VOIDED)
    def void(self) -> None:
        """The authorisation or expectation is released."""

    @transition(field=status, source=PaymentStatus.CAPTURED,
                target=RETURN_VALUE(PaymentStatus.CAPTURED, PaymentStatus.REFUNDED))
    def refund(self, amount: Decimal) -> str:
        """Captured stays captured until all of it is paid back."""
        self.refunded_amount += amount
        return (PaymentStatus.REFUNDED if self.refunded_amount == self.captured_amount
                else PaymentStatus.CAPTURED)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_captured(self) -> bool:
        return self.status == PaymentStatus.CAPTURED

    @property
    def masked_card(self) -> str:
        return f"{self.card_brand} •••• {self.last4}" if self.last4 else ""


class TransactionKind(models.TextChoices):
    AUTHORISE = "authorise", _("Authorise")
    CAPTURE = "capture", _("Capture")
    VOID = "void", _("Void")
    REFUND = "refund", _("Refund")
    # The authorised amount moved to a changed order total: up (a further
    # authorisation the gateway may decline) or down (the difference released).
    ADJUST = "adjust", _("Adjust")


class TransactionOutcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    PENDING = "pending", _("Pending")
    DECLINED = "declined", _("Declined")
    INSUFFICIENT_FUNDS = "insufficient_funds", _("Insufficient funds")
    REVIEW = "review", _("Needs review")
    SUCCEEDED = "succeeded", _("Succeeded")


class PaymentTransaction(models.Model):
    """One provider operation, the record that makes providers idempotent."""

    payment = models.ForeignKey(Payment, verbose_name=_("payment"), on_delete=models.PROTECT,
                                related_name="transactions")
    provider = models.CharField(_("provider"), max_length=30)
    kind = models.CharField(_("kind"), max_length=10, choices=TransactionKind.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=TransactionOutcome.choices)
    amount = models.DecimalField(_("amount"), max_digits=MONEY_DIGITS,
                                 decimal_places=MONEY_PLACES)
    currency = models.CharField(_("currency"), max_length=3)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    # Hash of what was asked: the same key with a different request is refused.
    request_fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    provider_reference = models.CharField(_("provider reference"), max_length=64)
    payment_status = models.CharField(_("payment status after"), max_length=12,
                                      choices=PaymentStatus.choices)
    decline_code = models.CharField(_("decline code"), max_length=40, blank=True)
    message = models.CharField(_("provider message"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("payment transaction")
        verbose_name_plural = _("payment transactions")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "idempotency_key"],
                                    name="billing_txn_unique_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.provider_reference} {self.amount} ({self.outcome})"
