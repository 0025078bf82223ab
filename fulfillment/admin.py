"""Admin for fulfillment. Carriers and their services are configuration and
editable here; pick lists and shipments are records that change only
through fulfillment.services, so they are read-only and the actions call
the services (stock, order state, e-mails included)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fulfillment import services
from fulfillment.models import (
    Carrier,
    CarrierService,
    PickList,
    PickListLine,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
)
from oms.lib.admin import ReadOnlyAdmin, ReadOnlyInline, run_action


class CarrierServiceInline(admin.TabularInline):
    model = CarrierService
    extra = 1
    fields = ["code", "name", "price", "transit_days", "is_active"]


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active", "tracking_url_template", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["created_at"]
    inlines = [CarrierServiceInline]


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    list_display = ["carrier", "code", "name", "price", "transit_days", "is_active"]
    list_filter = ["is_active", "carrier"]
    search_fields = ["code", "name", "carrier__name", "carrier__code"]
    list_select_related = ["carrier"]


class PickListLineInline(ReadOnlyInline):
    model = PickListLine
    fields = readonly_fields = ("bin_code", "sku", "name", "order", "quantity", "quantity_picked",
                                "status")


@admin.register(PickList)
class PickListAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "warehouse", "status", "created_by", "created_at",
                    "completed_at"]
    list_filter = ["status", "warehouse"]
    search_fields = ["lines__sku", "lines__order__number"]
    list_select_related = ["warehouse", "created_by"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in PickList._meta.fields]
    inlines = [PickListLineInline]
    actions = ["complete_selected"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        # View only; the action below needs the change permission itself.
        return obj is None and request.user.has_perm("fulfillment.change_picklist")

    @admin.action(description=_("Finish the selected pick lists (unpicked units backordered)"),
                  permissions=["change"])
    def complete_selected(self, request, queryset):
        run_action(self, request, queryset,
             lambda pl: services.complete_pick_list(pick_list_id=pl.pk, actor=request.user,
                                                    reason="admin"),
             lambda n: ngettext("%(n)d pick list finished.", "%(n)d pick lists finished.", n)
             % {"n": n})


@admin.register(PickListLine)
class PickListLineAdmin(ReadOnlyAdmin):
    list_display = ["pick_list", "bin_code", "sku", "order", "quantity", "quantity_picked",
                    "status"]
    list_filter = ["status", "pick_list__warehouse"]
    search_fields = ["sku", "order__number", "bin_code"]
    list_select_related = ["pick_list", "order"]
    readonly_fields = [f.name for f in PickListLine._meta.fields]
    show_full_result_count = False


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = readonly_fields = ("sku", "name", "quantity", "is_fragile")


class ShipmentEventInline(ReadOnlyInline):
    model = ShipmentEvent
    fields = readonly_fields = ("occurred_at", "source", "status", "exception_kind",
                                "description", "actor", "created_at")


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "order", "warehouse", "status", "carrier_service",
                    "tracking_number", "shipping_cost", "packed_at", "shipped_at",
                    "delivered_at"]
    list_filter = ["status", "warehouse", "package_type", "carrier_service__carrier"]
    search_fields = ["tracking_number", "order__number", "order__customer__name"]
    list_select_related = ["order", "warehouse", "carrier_service__carrier"]
    date_hierarchy = "packed_at"
    readonly_fields = [f.name for f in Shipment._meta.fields]
    inlines = [ShipmentLineInline, ShipmentEventInline]
    actions = ["confirm_delivery_selected"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("fulfillment.change_shipment")

    @admin.action(description=_("Confirm delivery of the selected shipments"),
                  permissions=["change"])
    def confirm_delivery_selected(self, request, queryset):
        run_action(self, request, queryset,
             lambda s: services.confirm_delivery(shipment_id=s.pk, actor=request.user,
                                                 note="admin"),
             lambda n: ngettext("%(n)d delivery confirmed.", "%(n)d deliveries confirmed.", n)
             % {"n": n})


@admin.register(ShipmentLine)
class ShipmentLineAdmin(ReadOnlyAdmin):
    list_display = ["shipment", "sku", "name", "quantity", "is_fragile"]
    list_filter = ["is_fragile"]
    search_fields = ["sku", "shipment__order__number", "shipment__tracking_number"]
    list_select_related = ["shipment"]
    readonly_fields = [f.name for f in ShipmentLine._meta.fields]


@admin.register(ShipmentEvent)
class ShipmentEventAdmin(ReadOnlyAdmin):
    list_display = ["shipment", "status", "source", "occurred_at", "actor", "created_at"]
    list_filter = ["source", "status"]
    search_fields = ["shipment__tracking_number", "description"]
    list_select_related = ["shipment", "actor"]
    readonly_fields = [f.name for f in ShipmentEvent._meta.fields]
