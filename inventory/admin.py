"""Admin for the inventory models.

Catalogue and warehouses are edited here. Stock quantities are not: on_hand
and reserved are read-only, stock changes go through the receipt and
adjustment pages (which call the services and write the ledger), and
reservations and movements are read-only records.
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inventory.models import (
    BinLocation,
    Product,
    ProductCost,
    Reservation,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMovement,
    StockTransfer,
    VatRate,
    Warehouse,
)
from oms.lib.admin import AuditedAdminMixin, ReadOnlyAdmin, ReadOnlyInline


class BinLocationInline(admin.TabularInline):
    model = BinLocation
    extra = 0
    autocomplete_fields = ["warehouse"]


class ProductCostForm(forms.ModelForm):
    currency = forms.TypedChoiceField(
        label=_("currency"), choices=lambda: [(c, c) for c in settings.CURRENCIES])

    class Meta:
        model = ProductCost
        fields = ["product", "currency", "cost"]


class ProductCostInline(admin.TabularInline):
    model = ProductCost
    form = ProductCostForm
    extra = 0
    fields = ["currency", "cost", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(ProductCost)
class ProductCostAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Unit costs per currency of purchase, for the margin (also on the product)."""

    form = ProductCostForm
    list_display = ["product", "currency", "cost", "updated_at"]
    list_filter = ["currency"]
    search_fields = ["product__sku", "product__name"]
    autocomplete_fields = ["product"]
    list_select_related = ["product"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "unit_price", "tax_rate", "tax_category", "weight_kg",
                    "is_fragile", "is_active", "updated_at"]
    list_filter = ["is_active", "is_fragile", "tax_category", "tax_rate", "available_from"]
    search_fields = ["sku", "name"]
    readonly_fields = ["created_at", "updated_at", "stock_link"]
    inlines = [BinLocationInline, ProductCostInline]
    fieldsets = [
        (None, {"fields": ["sku", "name", "description", "is_active", "available_from"]}),
        (_("Price"), {"fields": ["unit_price", "tax_rate", "tax_category"]}),
        (_("Shipping"), {"fields": ["weight_kg", "length_cm", "width_cm", "height_cm",
                                    "is_fragile"]}),
        (_("Audit"), {"fields": ["stock_link", "created_at", "updated_at"]}),
    ]

    @admin.display(description=_("Stock"))
    def stock_link(self, obj):
        if not obj.pk:
            return "—"
        return format_html('<a href="{}">{}</a>',
                           reverse("inventory:product_detail", args=[obj.pk]),
                           _("Stock per warehouse, receive or adjust"))


@admin.register(VatRate)
class VatRateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The rates per member state and tax category that cross-border sales
    apply; orders keep the rate they were placed with."""

    list_display = ["country", "category", "rate", "updated_at"]
    list_filter = ["category", "country"]
    search_fields = ["country"]
    list_editable = ["rate"]
    readonly_fields = ["updated_at"]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "country", "is_active"]
    list_filter = ["is_active", "country"]
    search_fields = ["code", "name", "city"]


@admin.register(BinLocation)
class BinLocationAdmin(admin.ModelAdmin):
    list_display = ["code", "product", "warehouse"]
    list_filter = ["warehouse"]
    search_fields = ["code", "product__sku", "product__name"]
    list_select_related = ["product", "warehouse"]
    autocomplete_fields = ["product", "warehouse"]


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    """Only the reorder level is editable; quantities move through the services."""

    list_display = ["product", "warehouse", "on_hand", "reserved", "available",
                    "reorder_level", "updated_at", "stock_actions"]
    list_filter = ["warehouse"]
    search_fields = ["product__sku", "product__name", "warehouse__code"]
    list_select_related = ["product", "warehouse"]
    fields = ["product", "warehouse", "on_hand", "reserved", "reorder_level", "updated_at",
              "stock_actions"]
    readonly_fields = ["product", "warehouse", "on_hand", "reserved", "updated_at",
                       "stock_actions"]

    def has_add_permission(self, request):
        # A stock level appears with the first receipt.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Available"))
    def available(self, obj):
        return obj.available

    @admin.display(description=_("Change stock"))
    def stock_actions(self, obj):
        return format_html('<a href="{}?level={}">{}</a> · <a href="{}?level={}">{}</a>',
                           reverse("inventory:receive"), obj.pk, _("Receive"),
                           reverse("inventory:adjust"), obj.pk, _("Adjust"))


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["id", "order_id", "order_line_id", "product", "warehouse", "quantity",
                    "kind", "status", "expires_at", "created_at"]
    list_filter = ["status", "kind", "warehouse"]
    search_fields = ["=order_id", "=order_line_id", "product__sku"]
    list_select_related = ["product", "warehouse"]
    date_hierarchy = "created_at"


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "product", "warehouse", "kind", "quantity", "reason",
                    "reference", "actor"]
    list_filter = ["kind", "warehouse"]
    search_fields = ["product__sku", "product__name", "reference", "reason"]
    list_select_related = ["product", "warehouse", "actor"]
    date_hierarchy = "created_at"


@admin.register(StockTransfer)
class StockTransferAdmin(ReadOnlyAdmin):
    """Transfers are made on the transfer page (the service writes the ledger)."""

    list_display = ["id", "created_at", "product", "from_warehouse", "to_warehouse", "quantity",
                    "note", "actor"]
    list_filter = ["from_warehouse", "to_warehouse"]
    search_fields = ["=id", "product__sku", "product__name", "note"]
    list_select_related = ["product", "from_warehouse", "to_warehouse", "actor"]
    date_hierarchy = "created_at"


class StockCountLineInline(ReadOnlyInline):
    model = StockCountLine
    fields = ["product", "counted", "on_hand_before", "variance"]


@admin.register(StockCount)
class StockCountAdmin(ReadOnlyAdmin):
    """Counts are entered and confirmed on the count page (the service writes the ledger)."""

    list_display = ["id", "warehouse", "status", "note", "created_by", "created_at", "closed_by",
                    "closed_at", "count_link"]
    list_filter = ["status", "warehouse"]
    search_fields = ["=id", "note", "lines__product__sku"]
    list_select_related = ["warehouse", "created_by", "closed_by"]
    date_hierarchy = "created_at"
    inlines = [StockCountLineInline]

    @admin.display(description=_("Count page"))
    def count_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("inventory:count", args=[obj.pk]),
                           obj.reference)


from inventory.purchasing import admin as purchasing_admin  # noqa: E402,F401  suppliers, POs
