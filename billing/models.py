"""Billing: payments of orders and the provider operations behind them.

billing owns payment approval (and later invoices, credit notes and
receivables). It may import `orders` (models, services, selectors) and
drives the order's approval transitions; `orders` never imports billing and
reaches it only through `orders.payments.register_payment_approver`.

Invoicing and collection: an `Invoice` is issued when an order ships, with
lines and a tax summary per rate frozen at issue; `CreditNote`s correct it;
`InvoicePayment`s settle it (overpayments become `CustomerCredit`);
`Reminder`s chase it once per level when it is overdue. Numbers come from
`DocumentCounter`, one locked row per series and year.

A `Payment` is one attempt to get an order paid (one card authorisation, one
expected bank transfer, one purchase on account). Every operation a provider
runs on it (authorise, capture, void, refund) is a `PaymentTransaction` row,
unique per (provider, idempotency key): that row is how a provider answers
a repeated call with the first result instead of charging twice.
Only the last four digits and the brand of a card are ever stored.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.lib.money import MONEY_DIGITS, MONEY_PLACES
from orders.models import PaymentMethod

__all__ = ["PaymentMethod", "Payment", "PaymentStatus", "PaymentTransaction",
           "TransactionKind", "TransactionOutcome", "OPEN_STATUSES", "DocumentCounter",
           "Invoice", "InvoiceStatus", "InvoiceLine", "InvoiceTaxRate", "CreditNote",
           "CreditNoteLine", "InvoicePayment", "SettlementMethod", "CustomerCredit", "Reminder"]


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


class Payment(models.Model):
    """One attempt to get an order paid, as the provider reported it."""

    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="payments")
    provider = models.CharField(_("provider"), max_length=30)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), max_digits=MONEY_DIGITS,
                                 decimal_places=MONEY_PLACES)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=12, choices=PaymentStatus.choices)
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

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def masked_card(self) -> str:
        return f"{self.card_brand} •••• {self.last4}" if self.last4 else ""


class TransactionKind(models.TextChoices):
    AUTHORISE = "authorise", _("Authorise")
    CAPTURE = "capture", _("Capture")
    VOID = "void", _("Void")
    REFUND = "refund", _("Refund")


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


# --- invoicing and collection ---------------------------------------------------


class DocumentCounter(models.Model):
    """The last number handed out in a series and year (INV 2026 -> 41).

    Invoice numbers must be gapless and unique (EU VAT directive art. 226(2):
    "a sequential number ... which uniquely identifies the invoice"). A
    sequence cannot promise that (a rolled-back transaction loses its value),
    so issuing locks this row with SELECT ... FOR UPDATE as the last step of
    its transaction: a rollback gives the number back, and concurrent issues
    queue on the row only for the few statements after it.
    """

    series = models.CharField(_("series"), max_length=10)
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("document counter")
        verbose_name_plural = _("document counters")
        ordering = ["series", "-year"]
        constraints = [models.UniqueConstraint(fields=["series", "year"],
                                               name="billing_counter_series_year_uniq")]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last_number}"


def format_document_number(series: str, year: int, sequence: int) -> str:
    return f"{series}-{year}-{sequence:06d}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")  # nothing paid or credited yet
    PARTIALLY_PAID = "partially_paid", _("Partially paid")  # some paid or credited
    PAID = "paid", _("Paid")  # settled by payments and credit notes
    # Not stored: "overdue" is an open or partially paid invoice past its due
    # date, derived from the date (Invoice.is_overdue) so it is never stale.
    OVERDUE = "overdue", _("Overdue")


STORED_INVOICE_STATUSES = [InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID,
                           InvoiceStatus.PAID]
UNSETTLED_STATUSES = [InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID]

_money: dict[str, Any] = {"max_digits": MONEY_DIGITS, "decimal_places": MONEY_PLACES}


class Invoice(models.Model):
    """An issued invoice, with everything art. 226 requires frozen into it.

    Issued invoices are immutable: the law (directive 2006/112/EC art. 226
    and 233, and every member state's bookkeeping rules) treats an issued
    invoice as a tax document the buyer may deduct VAT on; changing it
    afterwards would falsify both parties' books. Corrections are credit
    notes that reference it. A database trigger (migration 0003) refuses any
    UPDATE of the legal content and any DELETE once the number is set; only
    the settlement fields (amount_paid, amount_credited, status) and the path
    of the rendered PDF may change. Sellers, buyers and addresses are
    snapshots for the same reason: a later change of the customer record
    must not rewrite an issued invoice.
    """

    series = models.CharField(_("series"), max_length=10)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    # Null only inside the issuing transaction, before the counter is taken.
    number = models.CharField(_("number"), max_length=32, unique=True, null=True, blank=True)
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="invoices")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"),
                                 on_delete=models.PROTECT, related_name="invoices")
    issue_date = models.DateField(_("issue date"))
    supply_date = models.DateField(_("supply date"))
    due_date = models.DateField(_("due date"))
    payment_terms = models.CharField(_("payment terms"), max_length=200)
    seller = models.JSONField(_("seller"), default=dict)
    buyer = models.JSONField(_("buyer"), default=dict)
    shipping_address = models.JSONField(_("shipping address"), default=dict)
    currency = models.CharField(_("currency"), max_length=3)
    total_net = models.DecimalField(_("net total"), **_money)
    total_tax = models.DecimalField(_("tax total"), **_money)
    total_gross = models.DecimalField(_("gross total"), **_money)
    amount_paid = models.DecimalField(_("amount paid"), default=0, **_money)
    amount_credited = models.DecimalField(_("amount credited"), default=0, **_money)
    status = models.CharField(_("status"), max_length=20, default=InvoiceStatus.OPEN,
                              choices=[(s.value, s.label) for s in STORED_INVOICE_STATUSES])
    pdf_path = models.CharField(_("PDF file"), max_length=255, blank=True)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"),
                                  on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "year", "sequence"],
                                    name="billing_invoice_sequence_uniq"),
            # One invoice per order: the shipment handler may run twice.
            models.UniqueConstraint(fields=["order"], name="billing_invoice_one_per_order"),
            models.CheckConstraint(
                condition=models.Q(total_gross=models.F("total_net") + models.F("total_tax")),
                name="billing_invoice_gross_is_net_plus_tax"),
            models.CheckConstraint(condition=models.Q(amount_paid__gte=0)
                                   & models.Q(amount_credited__gte=0),
                                   name="billing_invoice_settlement_non_negative"),
        ]
        indexes = [
            # Receivables and reminders read unsettled invoices by due date.
            models.Index(fields=["due_date", "id"], name="billing_invoice_unsettled_idx",
                         condition=models.Q(status__in=["open", "partially_paid"])),
            models.Index(fields=["customer", "-issue_date"], name="billing_invoice_customer_idx"),
            models.Index(fields=["status", "-issue_date", "-id"],
                         name="billing_invoice_status_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"(draft invoice {self.pk})"

    @property
    def outstanding(self):
        return self.total_gross - self.amount_paid - self.amount_credited

    def days_overdue(self, today=None) -> int:
        if self.status == InvoiceStatus.PAID:
            return 0
        today = today or timezone.localdate()
        return max(0, (today - self.due_date).days)

    @property
    def is_overdue(self) -> bool:
        return self.days_overdue() > 0

    @property
    def display_status(self) -> str:
        return InvoiceStatus.OVERDUE.value if self.is_overdue else self.status

    @property
    def display_status_label(self) -> str:
        return str(InvoiceStatus(self.display_status).label)


class InvoiceLine(models.Model):
    """One line of goods, net of tax, as printed (immutable like its invoice)."""

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT,
                                related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    sku = models.CharField(_("SKU"), max_length=64)
    description = models.CharField(_("description"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price (net)"), **_money)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    net = models.DecimalField(_("net"), **_money)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice_id", "position"]
        constraints = [models.UniqueConstraint(fields=["invoice", "position"],
                                               name="billing_invoiceline_position_uniq")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class InvoiceTaxRate(models.Model):
    """Taxable amount and tax per rate (art. 226(8) and (10)); tax is
    rounded once per rate, as the order totals are."""

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT,
                                related_name="tax_rates")
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)
    net = models.DecimalField(_("taxable amount"), **_money)
    tax = models.DecimalField(_("tax"), **_money)

    class Meta:
        verbose_name = _("invoice tax rate")
        verbose_name_plural = _("invoice tax rates")
        ordering = ["invoice_id", "rate"]
        constraints = [models.UniqueConstraint(fields=["invoice", "rate"],
                                               name="billing_invoicetax_rate_uniq")]

    def __str__(self) -> str:
        return f"{self.rate}%: {self.tax}"


class CreditNote(models.Model):
    """A correction of an issued invoice, numbered in its own gapless series.

    Immutable once issued, for the same legal reason as the invoice."""

    series = models.CharField(_("series"), max_length=10)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=32, unique=True, null=True, blank=True)
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT,
                                related_name="credit_notes")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"),
                                 on_delete=models.PROTECT, related_name="credit_notes")
    issue_date = models.DateField(_("issue date"))
    reason = models.TextField(_("reason"))
    currency = models.CharField(_("currency"), max_length=3)
    total_net = models.DecimalField(_("net total"), **_money)
    total_tax = models.DecimalField(_("tax total"), **_money)
    total_gross = models.DecimalField(_("gross total"), **_money)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"),
                                  on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "year", "sequence"],
                                    name="billing_creditnote_sequence_uniq"),
            models.CheckConstraint(condition=models.Q(total_gross__gt=0),
                                   name="billing_creditnote_positive"),
        ]

    def __str__(self) -> str:
        return self.number or f"(draft credit note {self.pk})"


class CreditNoteLine(models.Model):
    credit_note = models.ForeignKey(CreditNote, verbose_name=_("credit note"),
                                    on_delete=models.PROTECT, related_name="lines")
    description = models.CharField(_("description"), max_length=200)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    net = models.DecimalField(_("net"), **_money)
    tax = models.DecimalField(_("tax"), **_money)

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        ordering = ["credit_note_id", "id"]

    def __str__(self) -> str:
        return f"{self.description}: {self.net}"


class SettlementMethod(models.TextChoices):
    """How money reached an invoice (what Accounting records)."""

    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card")
    PAYPAL = "paypal", _("PayPal")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    CUSTOMER_CREDIT = "customer_credit", _("Customer credit")  # an earlier overpayment


class InvoicePayment(models.Model):
    """Money received against an invoice (by hand, or a captured card)."""

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT,
                                related_name="payments")
    method = models.CharField(_("method"), max_length=20, choices=SettlementMethod.choices)
    # What arrived; `applied` is the part that settled the invoice, the rest
    # went to the customer's credit.
    amount = models.DecimalField(_("amount"), **_money)
    applied = models.DecimalField(_("applied to the invoice"), **_money)
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    # The captured provider payment this record stands for (once per payment).
    payment = models.OneToOneField(Payment, verbose_name=_("provider payment"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="invoice_payment")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                              on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("invoice payment")
        verbose_name_plural = _("invoice payments")
        ordering = ["invoice_id", "received_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0),
                                   name="billing_invoicepayment_positive"),
            models.CheckConstraint(condition=models.Q(applied__gte=0)
                                   & models.Q(applied__lte=models.F("amount")),
                                   name="billing_invoicepayment_applied_within_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.invoice.currency} ({self.get_method_display()})"


class CustomerCredit(models.Model):
    """Ledger of money the seller owes a customer: + an overpayment or an
    over-credit, - credit used. The balance is the sum."""

    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"),
                                 on_delete=models.PROTECT, related_name="credit_entries")
    amount = models.DecimalField(_("amount"), **_money)
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.CharField(_("reason"), max_length=200)
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT,
                                null=True, blank=True, related_name="+")
    invoice_payment = models.ForeignKey(InvoicePayment, verbose_name=_("payment"),
                                        on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="credit_entries")
    credit_note = models.ForeignKey(CreditNote, verbose_name=_("credit note"),
                                    on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="credit_entries")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("customer credit")
        verbose_name_plural = _("customer credit")
        ordering = ["customer_id", "-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0),
                                              name="billing_customercredit_not_zero")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.amount} {self.currency}"


class Reminder(models.Model):
    """A reminder sent for an overdue invoice at one level (days overdue).

    Unique per (invoice, level): the daily task can run twice, or late, and
    still sends each level once."""

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT,
                                related_name="reminders")
    level = models.PositiveSmallIntegerField(_("level (days overdue)"))
    days_overdue = models.PositiveIntegerField(_("days overdue when sent"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["invoice_id", "level"]
        constraints = [models.UniqueConstraint(fields=["invoice", "level"],
                                               name="billing_reminder_once_per_level")]

    def __str__(self) -> str:
        return f"{self.invoice} +{self.level}d"
