"""Admin for customers and addresses. Plain edits are fine here for the
contact details: a customer has no state machine; the model constraints
(case-insensitive unique e-mail, one default address per kind) are
validated by the forms. The credit terms and standing are not: they are
read-only without `customers.change_credit_terms`, and a change goes
through `customers.services.update_customer`, which checks that permission
again and records the change."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from customers import services
from customers.models import (
    CHANGE_CREDIT_TERMS,
    CREDIT_TERMS_FIELDS,
    Address,
    Contact,
    Customer,
    CustomerEvent,
    CustomerGroup,
    Interaction,
)
from oms.lib.admin import AuditedAdminMixin, ReadOnlyAdmin, ReadOnlyInline
from oms.lib.errors import Forbidden


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0
    readonly_fields = ["created_at"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class CustomerEventInline(ReadOnlyInline):
    model = CustomerEvent
    fields = readonly_fields = ("created_at", "kind", "actor", "data")


@admin.register(CustomerGroup)
class CustomerGroupAdmin(admin.ModelAdmin):
    """Groups that price lists may be scoped to."""

    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Customer)
class CustomerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_exclude = CREDIT_TERMS_FIELDS  # update_customer audits them
    list_display = ["name", "email", "phone", "kind", "standing", "payment_preference",
                    "payment_terms_days", "credit_limit", "credit_limit_currency", "created_at"]
    list_filter = ["standing", "kind", "payment_preference", "preferred_language",
                   "accepts_backorder", "ship_complete", "group"]
    search_fields = ["name", "email", "phone", "vat_id"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    inlines = [AddressInline, ContactInline, CustomerEventInline]
    filter_horizontal = ["api_tokens"]
    fieldsets = [
        (None, {"fields": ["kind", "name", "email", "phone", "vat_id", "preferred_language",
                           "time_zone"]}),
        (_("Terms"), {"fields": ["payment_preference", "payment_terms_days", "credit_limit",
                                 "credit_limit_currency", "standing", "accepts_backorder",
                                 "ship_complete", "group"]}),
        (_("API"), {"fields": ["api_tokens"],
                    "description": _("API orders for this customer use its terms, credit "
                                     "limit and standing only when placed with one of these "
                                     "tokens or a token for every customer; others are held "
                                     "for review.")}),
        (_("Notes"), {"fields": ["notes"]}),
        (_("Audit"), {"fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm(CHANGE_CREDIT_TERMS):
            readonly += CREDIT_TERMS_FIELDS
        return readonly

    def save_model(self, request, obj, form, change):
        """Save the contact details as the admin does, then the credit terms
        through the service (permission, audit event); one transaction, the
        admin's."""
        terms = {name: getattr(obj, name) for name in CREDIT_TERMS_FIELDS}
        stored = (Customer.objects.only(*CREDIT_TERMS_FIELDS).get(pk=obj.pk) if change
                  else Customer())
        for name in CREDIT_TERMS_FIELDS:
            setattr(obj, name, getattr(stored, name))
        super().save_model(request, obj, form, change)
        changed = {name: value for name, value in terms.items() if value != getattr(obj, name)}
        if changed:
            try:
                services.update_customer(customer=obj, actor=request.user, **changed)
            except Forbidden as exc:
                raise PermissionDenied(exc.message) from exc


@admin.register(Address)
class AddressAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["customer", "kind", "name", "line1", "postal_code", "city", "country",
                    "is_default"]
    list_filter = ["kind", "country", "is_default"]
    search_fields = ["name", "line1", "city", "postal_code", "customer__name",
                     "customer__email"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["created_at"]


@admin.register(CustomerEvent)
class CustomerEventAdmin(ReadOnlyAdmin):
    list_display = ["customer", "created_at", "kind", "actor"]
    list_filter = ["kind"]
    search_fields = ["customer__name", "customer__email"]
    list_select_related = ["customer", "actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    """Calls and notes are logged on the customer card; the admin reads them."""

    list_display = ["customer", "created_at", "kind", "order_number", "actor"]
    list_filter = ["kind"]
    search_fields = ["customer__name", "customer__email", "order_number", "text"]
    list_select_related = ["customer", "actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "email", "phone", "customer"]
    search_fields = ["name", "email", "phone", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
