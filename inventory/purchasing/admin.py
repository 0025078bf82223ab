"""Admin for suppliers and purchase orders. Suppliers and their products are
edited here; purchase orders are read-only records whose state changes (send,
cancel) go through the services as admin actions."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory.purchase_models import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseReceipt,
    Supplier,
    SupplierProduct,
)
from inventory.purchasing import services
from oms.lib.admin import ReadOnlyAdmin, ReadOnlyInline, run_action


class SupplierProductInline(admin.TabularInline):
    model = SupplierProduct
    extra = 0
    autocomplete_fields = ["product"]
    fields = ["product", "supplier_sku", "unit_cost", "lead_time_days",
              "minimum_order_quantity", "pack_size", "is_preferred"]


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "email", "contact_name", "currency", "language",
                    "is_active"]
    list_filter = ["is_active", "currency", "language"]
    search_fields = ["code", "name", "email", "contact_name"]
    readonly_fields = ["created_at"]
    inlines = [SupplierProductInline]


@admin.register(SupplierProduct)
class SupplierProductAdmin(admin.ModelAdmin):
    list_display = ["product", "supplier", "supplier_sku", "unit_cost", "lead_time_days",
                    "minimum_order_quantity", "pack_size", "is_preferred"]
    list_filter = ["is_preferred", "supplier"]
    search_fields = ["supplier_sku", "product__sku", "product__name", "supplier__name"]
    list_select_related = ["product", "supplier"]
    autocomplete_fields = ["product", "supplier"]


class PurchaseOrderLineInline(ReadOnlyInline):
    model = PurchaseOrderLine
    fields = readonly_fields = ("position", "sku", "supplier_sku", "name", "quantity_ordered",
                                "quantity_received", "unit_cost", "expected_date")


class PurchaseOrderEventInline(ReadOnlyInline):
    model = PurchaseOrderEvent
    fields = readonly_fields = ("created_at", "kind", "actor", "from_status", "to_status",
                                "reason", "data")


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "supplier", "warehouse", "status", "created_at", "sent_at",
                    "closed_at"]
    list_filter = ["status", "supplier", "warehouse"]
    search_fields = ["number", "supplier__name", "lines__sku", "lines__supplier_sku"]
    list_select_related = ["supplier", "warehouse"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in PurchaseOrder._meta.fields]
    inlines = [PurchaseOrderLineInline, PurchaseOrderEventInline]
    actions = ["send_selected", "cancel_selected"]

    def has_change_permission(self, request, obj=None):
        # View only; the actions below need the change permission itself.
        return obj is None and request.user.has_perm("inventory.change_purchaseorder")

    def has_send_permission(self, request):
        return request.user.has_perm("inventory.send_purchaseorder")

    @admin.action(description=_("Send the selected purchase orders to their suppliers"),
                  permissions=["send"])
    def send_selected(self, request, queryset):
        run_action(self, request, queryset,
                   lambda po: services.send_purchase_order(purchase_order_id=po.pk,
                                                           actor=request.user),
                   lambda n: ngettext("%(n)d purchase order sent.",
                                      "%(n)d purchase orders sent.", n) % {"n": n})

    @admin.action(description=_("Cancel the selected purchase orders"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        run_action(self, request, queryset,
                   lambda po: services.cancel_purchase_order(
                       purchase_order_id=po.pk, reason=str(_("Cancelled in the admin")),
                       actor=request.user),
                   lambda n: ngettext("%(n)d purchase order cancelled.",
                                      "%(n)d purchase orders cancelled.", n) % {"n": n})


@admin.register(PurchaseReceipt)
class PurchaseReceiptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "line", "quantity", "over_quantity", "actor"]
    list_filter = ["line__purchase_order__supplier"]
    search_fields = ["line__sku", "line__purchase_order__number"]
    list_select_related = ["line", "actor"]
    date_hierarchy = "created_at"
