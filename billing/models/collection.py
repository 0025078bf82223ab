"""Collection: money received against invoices, customer credit, reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models.credit_notes import CreditNote
from billing.models.invoices import MONEY_FIELD, Invoice
from billing.models.payments import Payment


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
    amount = models.DecimalField(_("amount"), **MONEY_FIELD)
    applied = models.DecimalField(_("applied to the invoice"), **MONEY_FIELD)
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    # The captured provider payment this record stands for (once per payment).
    # A card authorisation captured shipment by shipment pays several
    # invoices of its order, one record each.
    payment = models.ForeignKey(Payment, verbose_name=_("provider payment"),
                                on_delete=models.PROTECT, null=True, blank=True,
                                related_name="invoice_payments")
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
            # A provider payment pays an invoice once (several invoices: once each).
            models.UniqueConstraint(fields=["payment", "invoice"],
                                    condition=models.Q(payment__isnull=False),
                                    name="billing_invoicepayment_payment_invoice_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.invoice.currency} ({self.get_method_display()})"


class CustomerCredit(models.Model):
    """Ledger of money the seller owes a customer: + an overpayment or an
    over-credit, - credit used. The balance is the sum."""

    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"),
                                 on_delete=models.PROTECT, related_name="credit_entries")
    amount = models.DecimalField(_("amount"), **MONEY_FIELD)
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
