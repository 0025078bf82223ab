"""Invoices, their lines and tax summary, and the gapless document counter."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from oms.lib.money import MONEY_DIGITS, MONEY_PLACES


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
_SETTLEMENT = RETURN_VALUE(*STORED_INVOICE_STATUSES)

class _MoneyField(TypedDict):
    max_digits: int
    decimal_places: int


MONEY_FIELD: _MoneyField = {"max_digits": MONEY_DIGITS, "decimal_places": MONEY_PLACES}


class Invoice(FSMModelMixin, models.Model):
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
    # The order's VAT decision (orders.taxes.VatReason) and its legal mention
    # (art. 226(11) and (11a)) in the buyer's language; blank on invoices
    # issued before VAT was decided per order.
    vat_reason = models.CharField(_("VAT treatment"), max_length=30, blank=True)
    vat_mention = models.TextField(_("VAT legal mention"), blank=True)
    # The shipment it invoices when each shipment is invoiced on its own
    # (BILLING_INVOICE_EACH_SHIPMENT): a snapshot of its id, delivery note
    # number and date (billing does not read the fulfillment app). Blank on
    # an invoice of the whole order.
    shipment_id = models.PositiveBigIntegerField(_("shipment"), null=True, blank=True)
    shipment_number = models.CharField(_("delivery note"), max_length=32, blank=True)
    shipment_date = models.DateField(_("shipment date"), null=True, blank=True)
    total_net = models.DecimalField(_("net total"), **MONEY_FIELD)
    total_tax = models.DecimalField(_("tax total"), **MONEY_FIELD)
    total_gross = models.DecimalField(_("gross total"), **MONEY_FIELD)
    amount_paid = models.DecimalField(_("amount paid"), default=0, **MONEY_FIELD)
    amount_credited = models.DecimalField(_("amount credited"), default=0, **MONEY_FIELD)
    status = FSMField(_("status"), max_length=20, default=InvoiceStatus.OPEN, protected=True,
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
            # One invoice per order, or one per shipment when each shipment is
            # invoiced: the handlers may run twice.
            models.UniqueConstraint(fields=["order"], name="billing_invoice_one_per_order",
                                    condition=models.Q(shipment_id__isnull=True)),
            models.UniqueConstraint(fields=["order", "shipment_id"],
                                    name="billing_invoice_one_per_shipment",
                                    condition=models.Q(shipment_id__isnull=False)),
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
    def outstanding(self) -> Decimal:
        return self.total_gross - self.amount_paid - self.amount_credited

    # --- Transitions: money applied to the invoice. They only change fields;
    # billing.services saves and writes the order's event. A settled invoice
    # may still receive money (an over-capture, a credit note): the part
    # beyond what is due becomes customer credit and `applied` is zero.

    @transition(field=status, source=STORED_INVOICE_STATUSES, target=_SETTLEMENT)
    def receive_payment(self, applied: Decimal) -> str:
        self.amount_paid += applied
        return self._settlement_status()

    @transition(field=status, source=STORED_INVOICE_STATUSES, target=_SETTLEMENT)
    def receive_credit(self, applied: Decimal) -> str:
        self.amount_credited += applied
        return self._settlement_status()

    def _settlement_status(self) -> str:
        settled = self.amount_paid + self.amount_credited
        if settled >= self.total_gross:
            return InvoiceStatus.PAID
        return InvoiceStatus.PARTIALLY_PAID if settled > 0 else InvoiceStatus.OPEN

    @property
    def is_settled(self) -> bool:
        return self.status == InvoiceStatus.PAID

    def days_overdue(self, today=None) -> int:
        if self.is_settled:
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

    @property
    def discount_total(self) -> Decimal:
        """The discounts taken off its lines (already in the nets)."""
        return self.lines.aggregate(total=models.Sum("discount"))["total"] or Decimal("0.00")


class InvoiceLine(models.Model):
    """One line of goods, net of tax, as printed (immutable like its invoice)."""

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT,
                                related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    # The order line it invoices (none for the shipping charge): counts the
    # units already invoiced, so no unit is invoiced twice.
    order_line = models.ForeignKey("orders.OrderLine", verbose_name=_("order line"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    sku = models.CharField(_("SKU"), max_length=64)
    description = models.CharField(_("description"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price (net)"), **MONEY_FIELD)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    net = models.DecimalField(_("net"), **MONEY_FIELD)
    # Taken off quantity x unit price: the line's discount and its share of
    # the order's (net = quantity x unit price - discount).
    discount = models.DecimalField(_("discount"), **MONEY_FIELD, default=Decimal("0.00"))

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
    net = models.DecimalField(_("taxable amount"), **MONEY_FIELD)
    tax = models.DecimalField(_("tax"), **MONEY_FIELD)

    class Meta:
        verbose_name = _("invoice tax rate")
        verbose_name_plural = _("invoice tax rates")
        ordering = ["invoice_id", "rate"]
        constraints = [models.UniqueConstraint(fields=["invoice", "rate"],
                                               name="billing_invoicetax_rate_uniq")]

    def __str__(self) -> str:
        return f"{self.rate}%: {self.tax}"
