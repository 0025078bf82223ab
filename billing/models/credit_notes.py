"""Credit notes: corrections of issued invoices, in their own number series."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models.invoices import MONEY_FIELD, Invoice


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
    total_net = models.DecimalField(_("net total"), **MONEY_FIELD)
    total_tax = models.DecimalField(_("tax total"), **MONEY_FIELD)
    total_gross = models.DecimalField(_("gross total"), **MONEY_FIELD)
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
    net = models.DecimalField(_("net"), **MONEY_FIELD)
    tax = models.DecimalField(_("tax"), **MONEY_FIELD)

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        ordering = ["credit_note_id", "id"]

    def __str__(self) -> str:
        return f"{self.description}: {self.net}"
