"""Admin for orders. Read-only records: an order changes only through
orders.services, so status and totals cannot be edited here; the admin
actions call the services (with their events, e-mails and stock)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from oms.lib.admin import ReadOnlyAdmin, ReadOnlyInline, run_action
from orders import services
from orders.models import (
    DiscountCode,
    DiscountRedemption,
    HoldReason,
    Order,
    OrderEvent,
    OrderLine,
    ShippingRate,
)


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = ("position", "sku", "name", "unit_price", "tax_rate", "quantity",
                                "discount_percent", "discount", "order_discount", "line_net")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = readonly_fields = ("created_at", "kind", "actor", "from_status", "to_status", "reason",
                                "data")


def _run(modeladmin, request, queryset, call, done) -> None:
    run_action(modeladmin, request, queryset.select_related(None).only("pk", "number"), call,
               done, label=lambda order: order.number)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "customer", "channel", "status", "hold_reason", "total_gross",
                    "currency", "created_at", "placed_at", "hold_expires_at", "api_token"]
    list_filter = ["status", "channel", "hold_reason", "currency", "payment_method",
                   "ship_complete", "priority"]
    search_fields = ["number", "customer__name", "customer__email"]
    # api_token: a column, not a list filter, since filtering on it would
    # need an index orders_order does not have (and placements would maintain).
    list_select_related = ["customer", "api_token"]
    date_hierarchy = "created_at"
    # No COUNT(*) of the whole table on every change-list view.
    show_full_result_count = False
    inlines = [OrderLineInline, OrderEventInline]
    actions = ["approve_selected", "hold_selected", "cancel_selected"]
    readonly_fields = [f.name for f in Order._meta.fields]

    @admin.action(description=_("Approve the selected orders"),
                  permissions=["approve"])
    def approve_selected(self, request, queryset):
        _run(self, request, queryset,
             lambda o: services.approve_order(order_id=o.pk, actor=request.user,
                                              reason="admin"),
             lambda n: ngettext("%(count)d order approved.", "%(count)d orders approved.", n)
             % {"count": n})

    @admin.action(description=_("Put the selected orders on hold"), permissions=["approve"])
    def hold_selected(self, request, queryset):
        _run(self, request, queryset,
             lambda o: services.hold_order(order_id=o.pk, reason_code=HoldReason.MANUAL,
                                           reason_text="admin", actor=request.user),
             lambda n: ngettext("%(count)d order put on hold.",
                                "%(count)d orders put on hold.", n) % {"count": n})

    @admin.action(description=_("Cancel the selected orders"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        _run(self, request, queryset,
             lambda o: services.cancel_order(order_id=o.pk, actor=request.user,
                                             reason=str(_("Cancelled in the admin"))),
             lambda n: ngettext("%(count)d order cancelled.", "%(count)d orders cancelled.", n)
             % {"count": n})

    def has_approve_permission(self, request):
        return request.user.has_perm("orders.approve_order")

    def has_cancel_permission(self, request):
        return request.user.has_perm("orders.cancel_order")


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ["order", "position", "sku", "name", "quantity", "unit_price", "tax_rate",
                    "line_net"]
    search_fields = ["order__number", "sku", "name"]
    list_filter = ["tax_rate"]
    list_select_related = ["order"]
    show_full_result_count = False


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "created_at", "kind", "from_status", "to_status", "actor",
                    "reason"]
    list_filter = ["kind", "to_status"]
    search_fields = ["order__number", "reason"]
    list_select_related = ["order", "actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False


class DiscountRedemptionInline(ReadOnlyInline):
    model = DiscountRedemption
    fields = readonly_fields = ("created_at", "order", "customer", "amount")


@admin.register(DiscountCode)
class DiscountCodeAdmin(admin.ModelAdmin):
    """Codes are configuration: edited here or on the back-office page; their
    uses are the redemptions placement records."""

    list_display = ["code", "kind", "value", "currency", "minimum_order", "valid_from",
                    "valid_until", "max_uses", "max_uses_per_customer", "is_active"]
    list_filter = ["is_active", "kind", "currency"]
    search_fields = ["code", "description"]
    readonly_fields = ["created_at"]
    inlines = [DiscountRedemptionInline]


@admin.register(DiscountRedemption)
class DiscountRedemptionAdmin(ReadOnlyAdmin):
    list_display = ["code", "order", "customer", "amount", "created_at"]
    list_filter = ["code"]
    search_fields = ["code__code", "order__number", "customer__name", "customer__email"]
    list_select_related = ["code", "order", "customer"]
    date_hierarchy = "created_at"


@admin.register(ShippingRate)
class ShippingRateAdmin(admin.ModelAdmin):
    """The shipping charge table (orders.shipping): one row per currency,
    country and weight band."""

    list_display = ["currency", "country", "max_weight_kg", "price", "free_above", "label"]
    list_filter = ["currency", "country"]
    search_fields = ["country", "label"]
