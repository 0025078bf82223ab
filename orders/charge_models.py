"""Discount codes, their redemptions and the shipping rate table.

Imported by `orders.models` (so Django registers them there); it imports no
other orders module, and names the order by its label.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.lib.money import MONEY_DIGITS, MONEY_PLACES


class _MoneyField(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _MoneyField = {"max_digits": MONEY_DIGITS, "decimal_places": MONEY_PLACES}


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percent off the goods")
    AMOUNT = "amount", _("Amount off the goods")


class DiscountCode(models.Model):
    """A code a customer quotes (loyalty, campaigns) for a discount on the goods.

    Uses are counted from its redemptions of orders that are not cancelled or
    expired; placement locks this row to check and redeem, so two orders
    racing for the last use are decided one after the other.
    """

    code = models.CharField(_("code"), max_length=40, unique=True,
                            help_text=_("What the customer quotes; matched without case."))
    description = models.CharField(_("description"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DiscountKind.choices,
                            default=DiscountKind.PERCENT)
    # Percent (0-100) or an amount in `currency`.
    value = models.DecimalField(_("value"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3,
                                help_text=_("Orders in this currency only."))
    minimum_order = models.DecimalField(
        _("minimum order"), **MONEY, default=Decimal("0.00"),
        help_text=_("Net value of the goods after line discounts, in the code's currency."))
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("uses in total"), null=True, blank=True,
                                           help_text=_("Empty: no limit."))
    max_uses_per_customer = models.PositiveIntegerField(
        _("uses per customer"), null=True, blank=True, default=1,
        help_text=_("Empty: no limit."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("discount code")
        verbose_name_plural = _("discount codes")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="orders_discountcode_code_ci_uniq"),
            models.CheckConstraint(condition=models.Q(value__gt=0),
                                   name="orders_discountcode_value_positive"),
            models.CheckConstraint(
                condition=~models.Q(kind="percent") | models.Q(value__lte=100),
                name="orders_discountcode_percent_max_100"),
        ]

    def __str__(self) -> str:
        return self.code


class DiscountRedemption(models.Model):
    """One use of a code: by one order (at most one code per order)."""

    code = models.ForeignKey(DiscountCode, on_delete=models.PROTECT, related_name="redemptions",
                             verbose_name=_("code"))
    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE,
                                 related_name="discount_redemption", verbose_name=_("order"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("customer"))
    amount = models.DecimalField(_("discount"), **MONEY)
    created_at = models.DateTimeField(_("redeemed at"), default=timezone.now)

    class Meta:
        verbose_name = _("discount code redemption")
        verbose_name_plural = _("discount code redemptions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["code", "customer"], name="orders_redemption_cust_idx")]

    def __str__(self) -> str:
        return f"{self.code_id}: {self.order_id}"


class ShippingRate(models.Model):
    """One row of the shipping rate table: the charge for a parcel of goods
    weighing up to `max_weight_kg` sent to `country` (blank: anywhere not
    named by another row) in `currency`; free from `free_above` (net goods
    after discounts). The lightest matching band of the most specific
    country wins."""

    currency = models.CharField(_("currency"), max_length=3)
    country = models.CharField(_("country"), max_length=2, blank=True,
                               help_text=_("Two letters; empty: every other country."))
    max_weight_kg = models.DecimalField(_("up to weight (kg)"), max_digits=10,
                                        decimal_places=3, null=True, blank=True,
                                        help_text=_("Empty: any weight."))
    price = models.DecimalField(_("charge (net)"), **MONEY)
    free_above = models.DecimalField(_("free from (net goods)"), **MONEY, null=True,
                                     blank=True)
    label = models.CharField(_("label"), max_length=100, blank=True,
                             help_text=_("Printed on the charge line, e.g. \"Standard parcel\"."))

    class Meta:
        verbose_name = _("shipping rate")
        verbose_name_plural = _("shipping rates")
        ordering = ["currency", "country", models.F("max_weight_kg").asc(nulls_last=True)]
        constraints = [
            models.UniqueConstraint(fields=["currency", "country", "max_weight_kg"],
                                    name="orders_shippingrate_band_uniq",
                                    nulls_distinct=False),
            models.CheckConstraint(condition=models.Q(price__gte=0),
                                   name="orders_shippingrate_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.country or '*'} ≤{self.max_weight_kg or '∞'} kg"

