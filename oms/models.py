"""Models of the project itself: the outbox, the back-office permissions, API
tokens and idempotency records, one-time form keys, exchange rates, the
audit trail and staff notices.

`oms` owns cross-cutting rows only; it imports no domain app.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A side effect written inside a business transaction, run after commit.

    The row commits or rolls back with the business change, so a side effect
    is never sent for a change that did not happen, and never lost for one
    that did: the relay re-dispatches rows the broker missed.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # waiting to be run (again)
        DONE = "done", _("Done")  # ran and committed its effect
        FAILED = "failed", _("Failed")  # gave up after the maximum attempts

    handler = models.CharField(_("handler"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict)
    # Optional natural key: a second enqueue with the same key is a no-op, so
    # "send reminder level 2 for invoice 7" can be asked for twice safely.
    dedup_key = models.CharField(_("deduplication key"), max_length=200, null=True,
                                 blank=True, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    available_at = models.DateTimeField(_("available at"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("last dispatched at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["available_at"], name="outbox_pending_idx",
                         condition=models.Q(status="pending")),
            # The work queue and the resend read the few rows that failed.
            models.Index(fields=["handler", "id"], name="outbox_failed_idx",
                         condition=models.Q(status="failed")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.handler} ({self.status})"


class BackOffice(models.Model):
    """Holds the back-office permissions that belong to no single model."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_dashboard", _("Can view the back-office dashboard")),
        ]


class DigestFrequency(models.TextChoices):
    NEVER = "never", _("No e-mail")
    HOURLY = "hourly", _("Hourly")
    DAILY = "daily", _("Daily")


class UserPreference(models.Model):
    """What a back-office user chose for themselves, kept across sessions and
    devices: the language the back office speaks to them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="preference",
                                verbose_name=_("user"))
    # One of settings.LANGUAGES, checked where it is written; not model choices,
    # so adding a language needs no migration.
    language = models.CharField(_("language"), max_length=10, blank=True)
    # How often unread notices (oms.Notice) are e-mailed to the user.
    notice_digest = models.CharField(_("notice e-mail"), max_length=10,
                                     choices=DigestFrequency.choices,
                                     default=DigestFrequency.NEVER)
    last_digest_at = models.DateTimeField(_("last notice e-mail"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return str(self.user)
class ApiScope(models.TextChoices):
    """What a token may do; each endpoint of the JSON API needs one scope."""

    ORDERS = "orders", _("Orders: place orders and read them back")
    CATALOGUE_READ = "catalogue:read", _("Catalogue: read products and stock")
    CARRIER_EVENTS = "carrier_events", _("Carrier events: status updates for one carrier")


class ApiToken(models.Model):
    """One bearer token per integration (storefront, ERP, carrier...).

    Only the SHA-256 of the token is stored; the token itself is shown once
    by `manage.py create_api_token`. A revoked or expired token answers 401,
    a token without the scope an endpoint needs 403.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    token_hash = models.CharField(_("token hash (SHA-256)"), max_length=64, unique=True,
                                  editable=False)
    # The first characters, so an admin can tell tokens apart without the secret.
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    scopes = ArrayField(models.CharField(max_length=30, choices=ApiScope.choices),
                        verbose_name=_("scopes"), default=list, blank=True)
    # `fulfillment.Carrier.code` (a code, not a key: oms imports no domain
    # app). Carrier events are accepted only for this carrier's shipments.
    carrier_code = models.CharField(_("carrier code"), max_length=20, blank=True)
    # A trusted integration (the ERP) that may order on any customer's
    # account; other tokens only on the accounts customers allow them.
    all_customers = models.BooleanField(
        _("orders on every customer's account"), default=False,
        help_text=_("Orders for existing customers use their payment terms, credit limit "
                    "and standing. Without this (or the customer allowing the token), "
                    "such orders are held for review by Sales."))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True,
                                        editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["name"]
        constraints = [
            # The carrier scope means nothing without its carrier.
            models.CheckConstraint(
                condition=~models.Q(scopes__contains=[ApiScope.CARRIER_EVENTS.value])
                | ~models.Q(carrier_code=""),
                name="oms_apitoken_carrier_scope_has_carrier"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class IdempotencyRecord(models.Model):
    """The first response to an API request sent with an `Idempotency-Key`.

    The row is claimed with INSERT ... ON CONFLICT DO NOTHING in the same
    transaction as the work and its answer, so the key is recorded exactly when
    the work is: of many concurrent requests with one key exactly one does the
    work, the others wait on the unique index and replay the stored answer.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("API token"))
    key = models.CharField(_("idempotency key"), max_length=255)
    request_hash = models.CharField(_("request hash (SHA-256)"), max_length=64)
    request_path = models.CharField(_("request path"), max_length=255, blank=True)
    # Written in the transaction of the work itself (the order and its answer
    # commit together); NULL only on rows claimed by an earlier release.
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True,
                                                       blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set once the answer was taken again after commit (with what ran after it,
    # such as the payment decision). NULL: the request died right after its
    # commit, or is finishing now; the answer stored with the work stands.
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotency_token_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.token_id}:{self.key}"


class FormSubmission(models.Model):
    """The one-time key of a back-office form that writes money, once used.

    Every rendered form carries a fresh key; the service inserts this row in
    the transaction of its write, so a replayed or doubled POST finds the key
    taken and writes nothing (see `oms.lib.submissions`).
    """

    key = models.CharField(_("form key"), max_length=64, unique=True)
    # What the form did ("billing.record_payment"); `result_id` is the row it wrote.
    purpose = models.CharField(_("purpose"), max_length=100)
    result_id = models.PositiveBigIntegerField(_("result id"), null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("submitted by"))
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.key}"


def default_currency() -> str:
    """The base currency (settings.DEFAULT_CURRENCY), as a field default."""
    return str(settings.DEFAULT_CURRENCY)


def validate_currency(value: str) -> None:
    """One of settings.CURRENCIES (checked here, not as choices, so adding a
    currency needs no migration)."""
    if value not in settings.CURRENCIES:
        raise ValidationError(
            _("Unknown currency %(currency)s; use one of %(allowed)s."),
            code="unknown_currency",
            params={"currency": value, "allowed": ", ".join(settings.CURRENCIES)})


class ExchangeRate(models.Model):
    """One unit of `base` is worth `rate` units of `quote` from `valid_from`
    on, until a newer rate of the same pair. Maintained in the admin; read
    only through `oms.currencies.convert`."""

    base = models.CharField(_("from currency"), max_length=3, validators=[validate_currency])
    quote = models.CharField(_("to currency"), max_length=3, validators=[validate_currency])
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8,
                               help_text=_("Units of the target currency for one unit of "
                                           "the source currency."))
    valid_from = models.DateField(_("valid from"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["base", "quote", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["base", "quote", "valid_from"],
                                    name="oms_exchangerate_pair_date_uniq",
                                    violation_error_message=_(
                                        "This pair already has a rate from that date.")),
            models.CheckConstraint(condition=models.Q(rate__gt=0),
                                   name="oms_exchangerate_rate_positive",
                                   violation_error_message=_("The rate must be above zero.")),
            models.CheckConstraint(condition=~models.Q(base=models.F("quote")),
                                   name="oms_exchangerate_two_currencies",
                                   violation_error_message=_(
                                       "Choose two different currencies.")),
        ]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate} {self.quote} ({self.valid_from})"


class AuditEntry(models.Model):
    """One field of one record changed by one person (or the system), with
    its value before and after: the searchable audit trail across orders,
    customers, prices and returns. Written by `oms.lib.audit.record_changes`
    in the changing service's transaction; never edited."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")  # `before` is null
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")  # `after` is null
        STATUS = "status", _("Status changed")  # a state machine's transition

    at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("who"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # "app_label.model_name" of the record, e.g. "orders.order".
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.BigIntegerField(_("object id"))
    # The record's number or name when it changed (searchable, shown when the
    # record is gone).
    object_label = models.CharField(_("object"), max_length=200)
    # A field of the record, or "app_label.model.field" of a part filed under
    # it (an order line's under its order).
    field = models.CharField(_("field"), max_length=100, blank=True)
    # Plain JSON (Decimal and dates as text, a related record as {"id", "label"});
    # the audit page formats them for the reader.
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_at_idx"),
            models.Index(fields=["actor", "-at", "-id"], name="audit_actor_idx"),
            models.Index(fields=["object_type", "object_id", "-at", "-id"],
                         name="audit_object_idx"),
            models.Index(fields=["kind", "-at", "-id"], name="audit_kind_idx"),
            GinIndex(fields=["object_label"], opclasses=["gin_trgm_ops"],
                     name="audit_label_trgm_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}#{self.object_id} {self.field}"


class Notice(models.Model):
    """Something a back-office user asked to be told about (an order above
    an amount arrived): shown under the bell until read, and e-mailed in the
    user's digest once while unread. The words come from its kind and data,
    in the reader's language (`oms.lib.notices`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notices", verbose_name=_("user"))
    kind = models.CharField(_("kind"), max_length=40)
    data = models.JSONField(_("data"), default=dict)
    # What it is about, so the same fact makes one notice per user.
    subject = models.CharField(_("about"), max_length=100)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Claimed by the digest that e-mails it (once).
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "subject"], name="notice_once"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notice_user_idx"),
            # The bell's count and the digest's claim read only unread rows.
            models.Index(fields=["user"], name="notice_unread_idx",
                         condition=models.Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.subject}"


class QueueItemHandled(models.Model):
    """A person dealt with one row of the work queue (`oms.lib.workqueue`).

    Keyed on the row's source, object and reason version: the version names
    one occurrence of the condition (a hold started at a time, a payment
    declined), so the row stays hidden while that occurrence lasts and comes
    back when the condition recurs.
    """

    source = models.CharField(_("source"), max_length=40)
    object_id = models.BigIntegerField(_("object id"))
    version = models.CharField(_("reason version"), max_length=100)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("handled by"))
    handled_at = models.DateTimeField(_("handled at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("handled queue item")
        verbose_name_plural = _("handled queue items")
        ordering = ["-handled_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "object_id", "version"],
                                    name="queue_item_handled_once"),
        ]
        permissions = [("view_work_queue", _("Can see the work queue"))]

    def __str__(self) -> str:
        return f"{self.source}:{self.object_id}:{self.version}"
