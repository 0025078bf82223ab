"""Admin for payments, invoices, credit notes and collection: read-only
records; state changes only through billing.services (the actions below),
never by editing a status."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing import services
from billing.models import (
    CreditNote,
    CreditNoteLine,
    CustomerCredit,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    InvoiceTaxRate,
    Payment,
    PaymentTransaction,
    Reminder,
)
from oms.lib.admin import ReadOnlyAdmin, ReadOnlyInline, run_action


class PaymentTransactionInline(ReadOnlyInline):
    model = PaymentTransaction
    fields = readonly_fields = ("created_at", "kind", "outcome", "amount", "currency",
                                "payment_status", "idempotency_key", "decline_code", "message",
                                "actor")
    ordering = ["id"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["provider_reference", "order", "method", "provider", "amount", "currency",
                    "status", "masked_card", "created_at"]
    list_filter = ["status", "method", "provider", "currency", "created_at"]
    search_fields = ["provider_reference", "order__number", "order__customer__email",
                     "order__customer__name", "last4", "idempotency_key"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    readonly_fields = ["order", "provider", "method", "amount", "currency", "status",
                       "captured_amount", "refunded_amount", "card_brand", "last4",
                       "provider_reference", "idempotency_key", "decline_code", "message",
                       "created_at", "updated_at", "created_by"]
    inlines = [PaymentTransactionInline]
    actions = ["record_received", "void"]

    @admin.display(description=_("card"))
    def masked_card(self, obj: Payment) -> str:
        return obj.masked_card

    def _run(self, request, queryset, action, done):
        run_action(self, request, queryset.order_by("pk"),
                   lambda payment: action(payment_id=payment.pk, actor=request.user),
                   lambda n: done(n) % {"count": n}, label=lambda p: p.provider_reference)

    @admin.action(description=_("Record the money as received (capture)"),
                  permissions=["view"])
    def record_received(self, request, queryset):
        self._run(request, queryset, services.record_payment_received,
                  lambda n: ngettext("%(count)d payment recorded as received.",
                                     "%(count)d payments recorded as received.", n))

    @admin.action(description=_("Void the selected open payments"), permissions=["view"])
    def void(self, request, queryset):
        self._run(request, queryset, services.void_payment,
                  lambda n: ngettext("%(count)d payment voided.",
                                     "%(count)d payments voided.", n))

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("billing.add_payment"):
            actions.pop("record_received", None)
            actions.pop("void", None)
        return actions


@admin.register(PaymentTransaction)
class PaymentTransactionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "provider_reference", "kind", "outcome", "amount",
                    "currency", "payment_status", "provider", "actor"]
    list_filter = ["kind", "outcome", "provider", "payment_status", "created_at"]
    search_fields = ["provider_reference", "idempotency_key", "payment__order__number"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
    readonly_fields = ["payment", "provider", "kind", "outcome", "amount", "currency",
                       "idempotency_key", "request_fingerprint", "provider_reference",
                       "payment_status", "decline_code", "message", "created_at", "actor"]


# Issued invoices and credit notes are legal documents (VAT directive art.
# 226): read-only here and refused by a database trigger; corrections are
# credit notes, payments are recorded through billing.services.


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = readonly_fields = ("position", "sku", "description", "quantity", "unit_price",
                                "tax_rate", "net")


class InvoiceTaxRateInline(ReadOnlyInline):
    model = InvoiceTaxRate
    fields = readonly_fields = ("rate", "net", "tax")


class InvoicePaymentInline(ReadOnlyInline):
    model = InvoicePayment
    fields = readonly_fields = ("received_on", "method", "amount", "applied", "reference",
                                "payment", "actor", "created_at")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "order", "shipment_number", "customer", "issue_date", "due_date",
                    "currency", "total_gross", "amount_paid", "amount_credited", "status"]
    list_filter = ["status", "currency", "issue_date", "due_date", "series"]
    search_fields = ["number", "order__number", "shipment_number", "customer__name",
                     "customer__email"]
    list_select_related = ["order", "customer"]
    date_hierarchy = "issue_date"
    readonly_fields = [f.name for f in Invoice._meta.fields]
    inlines = [InvoiceLineInline, InvoiceTaxRateInline, InvoicePaymentInline]
    actions = ["render_pdf"]

    @admin.action(description=_("Render the PDF again (no e-mail)"), permissions=["view"])
    def render_pdf(self, request, queryset):
        count = 0
        for invoice in queryset.filter(number__isnull=False).order_by("pk"):
            services.render_invoice_pdf(invoice_id=invoice.pk, send_email=False)
            count += 1
        self.message_user(request, ngettext("%(count)d PDF rendered.", "%(count)d PDFs rendered.",
                                            count) % {"count": count}, messages.SUCCESS)


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fields = readonly_fields = ("description", "tax_rate", "net", "tax")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "invoice", "customer", "issue_date", "currency", "total_gross",
                    "issued_by"]
    list_filter = ["currency", "issue_date"]
    search_fields = ["number", "invoice__number", "customer__name", "reason"]
    list_select_related = ["invoice", "customer", "issued_by"]
    date_hierarchy = "issue_date"
    readonly_fields = [f.name for f in CreditNote._meta.fields]
    inlines = [CreditNoteLineInline]


@admin.register(InvoicePayment)
class InvoicePaymentAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "received_on", "method", "amount", "applied", "reference",
                    "actor", "created_at"]
    list_filter = ["method", "received_on"]
    search_fields = ["invoice__number", "reference", "invoice__customer__name"]
    list_select_related = ["invoice", "actor"]
    readonly_fields = [f.name for f in InvoicePayment._meta.fields]


@admin.register(CustomerCredit)
class CustomerCreditAdmin(ReadOnlyAdmin):
    list_display = ["customer", "amount", "currency", "reason", "invoice", "created_at", "actor"]
    list_filter = ["currency", "created_at"]
    search_fields = ["customer__name", "customer__email", "reason", "invoice__number"]
    list_select_related = ["customer", "invoice", "actor"]
    readonly_fields = [f.name for f in CustomerCredit._meta.fields]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "level", "days_overdue", "sent_at"]
    list_filter = ["level", "sent_at"]
    search_fields = ["invoice__number", "invoice__customer__name"]
    list_select_related = ["invoice"]
    readonly_fields = ["invoice", "level", "days_overdue", "sent_at"]


@admin.register(DocumentCounter)
class DocumentCounterAdmin(ReadOnlyAdmin):
    # Editing a counter would break the gapless numbering: read-only.
    list_display = ["series", "year", "last_number"]
    list_filter = ["series", "year"]
    search_fields = ["series"]
    readonly_fields = ["series", "year", "last_number"]
