"""Customers: who orders, where they want their goods and invoices, and on
what payment terms and standing they buy.

`customers` imports nothing but `oms`; orders and billing read these models
and write them only through `customers.services`. The credit terms and
standing (`CREDIT_TERMS_FIELDS`) are Accounting's: only an actor with
`customers.change_credit_terms` changes them, and every change is a
`CustomerEvent` with the values before and after.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oms.lib.money import format_money
from oms.models import default_currency, validate_currency


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class PaymentPreference(models.TextChoices):
    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    PAYPAL = "paypal", _("PayPal")
    NET_TERMS = "net_terms", _("Net terms (invoice)")


class Standing(models.TextChoices):
    NEW = "new", _("New")  # first orders go through payment approval
    TRUSTED = "trusted", _("Trusted")  # returning customer, straight to fulfilment
    BLOCKED = "blocked", _("Blocked")  # may not place orders


# What a customer may buy on credit and whether it may buy at all: changed by
# Accounting only (permission customers.change_credit_terms).
CREDIT_TERMS_FIELDS = ("payment_terms_days", "credit_limit", "credit_limit_currency",
                       "standing")
CHANGE_CREDIT_TERMS = "customers.change_credit_terms"


def time_zones() -> list[str]:
    """The IANA zones a customer may live in, sorted."""
    return sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})


def validate_time_zone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("Choose a time zone such as Europe/Paris."),
                              code="invalid_time_zone")


class CustomerGroup(models.Model):
    """Customers who buy on the same terms, e.g. resellers: a price list may
    be scoped to a group."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices,
                            default=CustomerKind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    # Unique regardless of case: see the Lower("email") constraint below.
    email = models.EmailField(_("e-mail"), max_length=254)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    vat_id = models.CharField(_("VAT id"), max_length=40, blank=True)
    # A code of settings.LANGUAGES, checked by the services and forms rather than
    # as model choices so adding a language needs no migration.
    preferred_language = models.CharField(_("preferred language"), max_length=10,
                                          default=settings.LANGUAGE_CODE)
    # An IANA zone ("Europe/Bucharest") for the times e-mails promise;
    # blank: the company's TIME_ZONE. Checked by the services and forms.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True,
                                 validators=[validate_time_zone])
    payment_preference = models.CharField(_("payment preference"), max_length=20,
                                          choices=PaymentPreference.choices,
                                          default=PaymentPreference.CARD)
    # 0 means prepaid; N means the invoice is due N days after issue.
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=0)
    credit_limit = models.DecimalField(_("credit limit"), max_digits=14, decimal_places=2,
                                       default=Decimal("0.00"),
                                       validators=[MinValueValidator(Decimal("0.00"))])
    # The currency of the limit: exposure in other currencies is converted
    # into it (billing.services.exposure).
    credit_limit_currency = models.CharField(_("credit limit currency"), max_length=3,
                                             default=default_currency,
                                             validators=[validate_currency])
    standing = models.CharField(_("standing"), max_length=10, choices=Standing.choices,
                                default=Standing.NEW)
    # Accepts that out-of-stock lines wait for stock instead of being refused.
    accepts_backorder = models.BooleanField(_("accepts backorders"), default=False)
    # True: the customer's orders leave whole; False: what is ready ships now
    # and the rest follows. An order may say otherwise (Order.ship_complete).
    ship_complete = models.BooleanField(_("ship complete"), default=True)
    group = models.ForeignKey(CustomerGroup, verbose_name=_("customer group"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="customers")
    notes = models.TextField(_("notes"), blank=True)
    # An e-mail address in an API order proves nothing: only these tokens
    # (the customer's own integration) and tokens for every customer order
    # on this account; any other token's orders are held for review.
    api_tokens = models.ManyToManyField(
        "oms.ApiToken", blank=True, related_name="customers",
        verbose_name=_("API tokens that may order on this account"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        permissions = [
            ("change_credit_terms", _("Can change credit limit, payment terms and standing")),
        ]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="customers_customer_email_ci_uniq",
                                    violation_error_message=_(
                                        "A customer with this e-mail already exists.")),
            models.CheckConstraint(condition=models.Q(credit_limit__gte=0),
                                   name="customers_customer_credit_limit_gte_0"),
        ]
        indexes = [
            # Back-office search uses icontains, i.e. UPPER(col) LIKE UPPER('%q%'):
            # trigram GIN indexes on the same expressions serve it at any size.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"),
                     name="customers_name_trgm"),
            GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"),
                     name="customers_email_trgm"),
            GinIndex(OpClass(Upper("phone"), name="gin_trgm_ops"),
                     name="customers_phone_trgm"),
            models.Index(fields=["-created_at"], name="customers_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The customer's time zone, or the company's."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def is_blocked(self) -> bool:
        return self.standing == Standing.BLOCKED

    @property
    def is_trusted(self) -> bool:
        return self.standing == Standing.TRUSTED

    @property
    def is_prepaid(self) -> bool:
        return self.payment_terms_days == 0

    def allows_api_token(self, token) -> bool:
        """May orders placed with this `oms.ApiToken` use this account (its
        terms, credit limit and standing)?"""
        return token.all_customers or self.api_tokens.filter(pk=token.pk).exists()

    def default_address(self, kind: str) -> Address | None:
        """The default address of `kind`, else the newest one (uses prefetched rows)."""
        candidates = [a for a in self.addresses.all() if a.kind == kind]
        for address in candidates:
            if address.is_default:
                return address
        return max(candidates, key=lambda a: a.pk, default=None)


class AddressKind(models.TextChoices):
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses",
                                 verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=10, choices=AddressKind.choices)
    name = models.CharField(_("name"), max_length=200,
                            help_text=_("Recipient or company as printed on the label."))
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("region"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2."))
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["customer_id", "kind", "-is_default", "id"]
        constraints = [
            # At most one default billing and one default shipping address.
            models.UniqueConstraint(fields=["customer", "kind"],
                                    condition=models.Q(is_default=True),
                                    name="customers_address_one_default_per_kind"),
        ]

    def __str__(self) -> str:
        return ", ".join(p for p in [self.name, self.line1, self.postal_code, self.city,
                                     self.country] if p)

    # Field names shared by Address and the order's address snapshot.
    SNAPSHOT_FIELDS = ("name", "line1", "line2", "postal_code", "city", "region", "country")

    def as_snapshot(self) -> dict:
        return {name: getattr(self, name) for name in self.SNAPSHOT_FIELDS}


class CustomerEventKind(models.TextChoices):
    # Each kind has one writer in customers.events; CustomerEvent.summary renders it.
    CREDIT_TERMS = "credit_terms", _("Credit terms changed")


def _term_value(name: str, value, currency: str | None = None) -> str:
    """One credit term as the reader reads it (in the active language)."""
    if value is None:
        return "—"
    if name == "credit_limit":
        return format_money(Decimal(value), currency)
    if name == "standing":
        try:
            return str(Standing(value).label)
        except ValueError:
            return str(value)
    return str(value)


def _credit_terms_summary(event: CustomerEvent) -> str:
    parts = []
    changes = event.data.get("changes", {})
    # jsonb keeps no key order: show the fields in the form's order.
    names = sorted(changes, key=lambda n: CREDIT_TERMS_FIELDS.index(n)
                   if n in CREDIT_TERMS_FIELDS else len(CREDIT_TERMS_FIELDS))
    # A limit changed with its currency is shown in the currency before and after.
    currencies = changes.get("credit_limit_currency", {})
    for name in names:
        change = changes[name]
        try:
            label = str(cast(models.Field, Customer._meta.get_field(name)).verbose_name)
        except FieldDoesNotExist:
            label = name
        parts.append(gettext("%(field)s: %(before)s → %(after)s") % {
            "field": label[:1].upper() + label[1:],
            "before": _term_value(name, change.get("before"), currencies.get("before")),
            "after": _term_value(name, change.get("after"), currencies.get("after"))})
    return "; ".join(parts)


_SUMMARIES: dict[str, Callable[[CustomerEvent], str]] = {
    CustomerEventKind.CREDIT_TERMS: _credit_terms_summary}


class CustomerEvent(models.Model):
    """One row of a customer's audit timeline, written in the transaction of
    the change; `data` holds the facts (values before and after), rendered
    in the reader's language by `summary`."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events",
                                 verbose_name=_("customer"), db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerEventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("actor"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("customer event")
        verbose_name_plural = _("customer events")
        ordering = ["customer_id", "created_at", "id"]
        indexes = [models.Index(fields=["customer", "created_at", "id"],
                                name="customers_event_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.kind}"

    @property
    def summary(self) -> str:
        render = _SUMMARIES.get(self.kind)
        return render(self) if render is not None else ""

    @property
    def actor_label(self) -> str:
        if self.actor is None:
            return str(_("System"))
        return self.actor.get_full_name() or self.actor.get_username()


class InteractionKind(models.TextChoices):
    CALL_IN = "call_in", _("Call from the customer")
    CALL_OUT = "call_out", _("Call to the customer")
    EMAIL_IN = "email_in", _("E-mail from the customer")
    NOTE = "note", _("Note")


class Interaction(models.Model):
    """A call, an incoming e-mail or a note logged by staff on the customer
    card. `order_number` is a plain reference: customers never import orders."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="interactions", verbose_name=_("customer"),
                                 db_index=False)
    kind = models.CharField(_("kind"), max_length=10, choices=InteractionKind.choices)
    text = models.TextField(_("text"))
    order_number = models.CharField(_("order number"), max_length=32, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("logged by"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at", "-id"],
                                name="customers_interaction_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.get_kind_display()}"

    @property
    def actor_label(self) -> str:
        if self.actor is None:
            return str(_("System"))
        return self.actor.get_full_name() or self.actor.get_username()


class Contact(models.Model):
    """A person to talk to at a company customer (buyer, accounts payable)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts",
                                 verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=100, blank=True,
                            help_text=_("E.g. buyer, accounts payable."))
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["customer_id", "name", "id"]

    def __str__(self) -> str:
        return self.name
