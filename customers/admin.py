"""Admin for customers and addresses. Plain edits are fine here: a
customer has no state machine; the model constraints (case-insensitive
unique e-mail, one default address per kind) are validated by the forms."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from customers.models import Address, Customer


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0
    readonly_fields = ["created_at"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "kind", "standing", "payment_preference",
                    "payment_terms_days", "credit_limit", "created_at"]
    list_filter = ["standing", "kind", "payment_preference", "preferred_language",
                   "accepts_backorder"]
    search_fields = ["name", "email", "phone", "vat_id"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    inlines = [AddressInline]
    filter_horizontal = ["api_tokens"]
    fieldsets = [
        (None, {"fields": ["kind", "name", "email", "phone", "vat_id", "preferred_language"]}),
        (_("Terms"), {"fields": ["payment_preference", "payment_terms_days", "credit_limit",
                                 "standing", "accepts_backorder"]}),
        (_("API"), {"fields": ["api_tokens"],
                    "description": _("API orders for this customer use its terms, credit "
                                     "limit and standing only when placed with one of these "
                                     "tokens or a token for every customer; others are held "
                                     "for review.")}),
        (_("Notes"), {"fields": ["notes"]}),
        (_("Audit"), {"fields": ["created_at", "updated_at"]}),
    ]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "name", "line1", "postal_code", "city", "country",
                    "is_default"]
    list_filter = ["kind", "country", "is_default"]
    search_fields = ["name", "line1", "city", "postal_code", "customer__name",
                     "customer__email"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["created_at"]
