"""Admin for payments: read-only records; state changes only through
billing.services (the actions below), never by editing a status."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing import services
from billing.models import Payment, PaymentTransaction
from oms.lib.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentTransactionInline(admin.TabularInline):
    model = PaymentTransaction
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "outcome", "amount", "currency", "payment_status",
              "idempotency_key", "decline_code", "message", "actor"]
    readonly_fields = fields
    ordering = ["id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
        ok = 0
        for payment in queryset.order_by("pk"):
            try:
                action(payment_id=payment.pk, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{payment.provider_reference}: {exc.message}",
                                  messages.ERROR)
            else:
                ok += 1
        if ok:
            self.message_user(request, done(ok) % {"count": ok}, messages.SUCCESS)

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
