"""Admin for orders. Read-only records: an order changes only through
orders.services, so status and totals cannot be edited here; the admin
actions call the services (with their events, e-mails and stock). Price
lists are edited here: the header through `save_price_list` (its rules on
scope and overlapping validity shown on the form), prices inline."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from oms.lib.admin import AuditedAdminMixin, ReadOnlyAdmin, ReadOnlyInline, run_action
from oms.lib.errors import ApplicationError
from oms.lib.validation import errors_onto_form
from orders import services
from orders.address_request_models import AddressChangeRequest
from orders.feedback_models import OrderFeedback
from orders.inputs import DiscountCodeInput, PriceListInput
from orders.link_models import OrderLink
from orders.links import revoke_order_links
from orders.models import (
    DiscountCode,
    DiscountRedemption,
    HoldReason,
    NoticeRule,
    Order,
    OrderEvent,
    OrderLine,
    OrderTemplate,
    OrderTemplateLine,
    PriceList,
    PriceListEntry,
    Return,
    ReturnLine,
    ShippingRate,
)
from orders.notices import NoticeRuleInput, check_notice_rule
from orders.services import returns as return_services
from orders.services.address_requests import accept_address_change
from orders.services.discount_codes import FIELDS as DISCOUNT_CODE_FIELDS
from orders.services.discount_codes import check_discount_code
from orders.services.price_lists import check_price_list, price_places_error


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


class DiscountCodeAdminForm(forms.ModelForm):
    """Checked by the service's input and rules (a used code's terms are fixed)."""

    class Meta:
        model = DiscountCode
        fields = list(DISCOUNT_CODE_FIELDS)

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            self.code_input = DiscountCodeInput.parse(
                {name: cleaned.get(name) for name in DISCOUNT_CODE_FIELDS})
            check_discount_code(self.code_input,
                                code=self.instance if self.instance.pk else None)
        except ApplicationError as exc:
            errors_onto_form(self, exc)
        return cleaned


@admin.register(DiscountCode)
class DiscountCodeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Codes are configuration: edited here or on the back-office page, both
    through `save_discount_code`; their uses are the redemptions placement
    records."""

    form = DiscountCodeAdminForm

    list_display = ["code", "kind", "value", "currency", "minimum_order", "valid_from",
                    "valid_until", "max_uses", "max_uses_per_customer", "is_active"]
    list_filter = ["is_active", "kind", "currency"]
    search_fields = ["code", "description"]
    readonly_fields = ["created_at"]
    inlines = [DiscountRedemptionInline]

    def save_model(self, request, obj, form, change):
        saved = services.save_discount_code(form.code_input, code=obj if change else None,
                                            actor=request.user)
        obj.pk = saved.pk


@admin.register(DiscountRedemption)
class DiscountRedemptionAdmin(ReadOnlyAdmin):
    list_display = ["code", "order", "customer", "amount", "created_at"]
    list_filter = ["code"]
    search_fields = ["code__code", "order__number", "customer__name", "customer__email"]
    list_select_related = ["code", "order", "customer"]
    date_hierarchy = "created_at"


@admin.register(ShippingRate)
class ShippingRateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The shipping charge table (orders.shipping): one row per currency,
    country and weight band."""

    list_display = ["currency", "country", "max_weight_kg", "price", "free_above", "label"]
    list_filter = ["currency", "country"]
    search_fields = ["country", "label"]


class PriceListEntryForm(forms.ModelForm):
    class Meta:
        model = PriceListEntry
        fields = ["price_list", "product", "min_quantity", "unit_price"]

    def clean_unit_price(self):
        unit_price = self.cleaned_data["unit_price"]
        if unit_price is not None and unit_price <= 0:
            raise forms.ValidationError(_("Enter a price above zero."))
        return unit_price

    def clean(self):
        cleaned = super().clean() or {}
        price_list, unit_price = cleaned.get("price_list"), cleaned.get("unit_price")
        if price_list is not None and unit_price is not None and (
                message := price_places_error(unit_price, price_list.currency)):
            self.add_error("unit_price", message)
        return cleaned


class PriceListEntryInline(admin.TabularInline):
    model = PriceListEntry
    form = PriceListEntryForm
    fields = ["product", "min_quantity", "unit_price"]
    autocomplete_fields = ["product"]
    extra = 1


class PriceListAdminForm(forms.ModelForm):
    """Checked by the service's rules (currency, scope, no overlapping validity)."""

    class Meta:
        model = PriceList
        fields = ["name", "currency", "customer", "customer_group", "valid_from", "valid_until"]

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            self.price_list_input = PriceListInput.parse({
                name: cleaned.get(name) for name in self.Meta.fields})
            check_price_list(self.price_list_input, exclude=self.instance.pk)
        except ApplicationError as exc:
            errors_onto_form(self, exc)
        return cleaned


@admin.register(PriceList)
class PriceListAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = PriceListAdminForm
    list_display = ["name", "currency", "customer", "customer_group", "valid_from",
                    "valid_until", "updated_at"]
    list_filter = ["currency", ("customer", admin.EmptyFieldListFilter),
                   ("customer_group", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "customer__name", "customer__email", "customer_group__name"]
    list_select_related = ["customer", "customer_group"]
    autocomplete_fields = ["customer"]
    inlines = [PriceListEntryInline]

    def save_model(self, request, obj, form, change):
        saved = services.save_price_list(form.price_list_input,
                                         price_list=obj if change else None,
                                         actor=request.user)
        obj.pk = saved.pk


@admin.register(PriceListEntry)
class PriceListEntryAdmin(ReadOnlyAdmin):
    list_display = ["price_list", "product", "min_quantity", "unit_price"]
    list_filter = ["price_list__currency", "price_list"]
    search_fields = ["product__sku", "product__name", "price_list__name"]
    list_select_related = ["price_list", "product"]


class NoticeRuleForm(forms.ModelForm):
    """The service's rules (one owner, an amount with its currency)."""

    class Meta:
        model = NoticeRule
        fields = ["user", "role", "channels", "min_total", "currency", "customer_group",
                  "is_active"]

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            check_notice_rule(NoticeRuleInput.parse({name: cleaned.get(name) for name in (
                "user", "role", "channels", "min_total", "currency", "customer_group")}))
        except ApplicationError as exc:
            errors_onto_form(self, exc)
        return cleaned


@admin.register(NoticeRule)
class NoticeRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = NoticeRuleForm
    """Notice rules of a role (every member is told) or of one user; users
    keep their own on their notice settings page."""

    list_display = ["__str__", "user", "role", "min_total", "currency", "customer_group",
                    "is_active"]
    list_filter = ["is_active", "role", "currency"]
    search_fields = ["user__username", "user__email", "role__name"]
    list_select_related = ["user", "role", "customer_group"]
    autocomplete_fields = ["user"]


@admin.register(OrderLink)
class OrderLinkAdmin(ReadOnlyAdmin):
    """The customers' order-page links; the token itself is never shown."""
    list_display = ["order", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["order__number", "order__customer__name"]
    list_select_related = ["order"]
    exclude = ["salt", "token_hash"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the link (the next e-mail carries a new one)"),
                  permissions=["view"])
    def revoke(self, request, queryset) -> None:
        run_action(self, request, queryset,
                   lambda link: revoke_order_links(order_id=link.order_id, actor=request.user),
                   lambda n: ngettext("%(n)d link revoked.", "%(n)d links revoked.", n) % {"n": n})


@admin.register(OrderFeedback)
class OrderFeedbackAdmin(ReadOnlyAdmin):
    """The customers' ratings of their delivered orders, as they wrote them."""
    list_display = ["order", "customer", "rating", "short_comment", "language", "submitted_at"]
    list_filter = ["rating", "submitted_at", "language"]
    search_fields = ["order__number", "order__customer__name", "comment"]
    list_select_related = ["order__customer"]
    date_hierarchy = "submitted_at"
    ordering = ["-submitted_at", "-id"]

    @admin.display(description=_("customer"), ordering="order__customer__name")
    def customer(self, obj: OrderFeedback) -> str:
        return obj.order.customer.name

    @admin.display(description=_("comment"))
    def short_comment(self, obj: OrderFeedback) -> str:
        return obj.comment if len(obj.comment) <= 80 else obj.comment[:79] + "…"


@admin.register(AddressChangeRequest)
class AddressChangeRequestAdmin(ReadOnlyAdmin):
    """Customers' address change requests; accepted (through the order
    change) or refused with a reason on the order page or here."""
    list_display = ["order", "status", "created_at", "requested_city", "decided_by",
                    "decided_at"]
    list_filter = ["status", "created_at", "decided_at"]
    search_fields = ["order__number", "order__customer__name", "address__city"]
    list_select_related = ["order", "decided_by"]
    actions = ["accept"]

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("orders.change_order")

    @admin.display(description=_("city"))
    def requested_city(self, obj: AddressChangeRequest) -> str:
        return f"{obj.address.get('city', '')} ({obj.address.get('country', '')})"

    @admin.action(description=_("Accept the new delivery address"), permissions=["decide"])
    def accept(self, request, queryset) -> None:
        run_action(self, request, queryset,
                   lambda item: accept_address_change(request_id=item.pk, actor=request.user),
                   lambda n: ngettext("%(n)d request accepted.", "%(n)d requests accepted.",
                                      n) % {"n": n})


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = readonly_fields = ("order_line", "quantity", "reason", "received_quantity",
                                "restocked_quantity", "scrapped_quantity",
                                "to_supplier_quantity")


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    """Returns change state only through orders.services.returns (the
    approval e-mails the label); receiving and settlement have their own
    screens."""

    list_display = ["number", "order", "status", "channel", "settlement", "settled_amount",
                    "credit_note_number", "warehouse", "created_at", "closed_at"]
    list_filter = ["status", "channel", "settlement", "warehouse"]
    search_fields = ["number", "order__number", "order__customer__name",
                     "order__customer__email", "tracking_number", "credit_note_number"]
    list_select_related = ["order", "warehouse"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [ReturnLineInline]
    readonly_fields = [f.name for f in Return._meta.fields]
    actions = ["approve_selected"]

    @admin.action(description=_("Approve the selected returns (e-mails the label)"),
                  permissions=["decide"])
    def approve_selected(self, request, queryset):
        run_action(self, request, queryset.select_related(None).only("pk", "number"),
                   lambda r: return_services.approve_return(return_id=r.pk, actor=request.user),
                   lambda n: ngettext("%(count)d return approved.",
                                      "%(count)d returns approved.", n) % {"count": n},
                   label=lambda r: r.number)

    def has_decide_permission(self, request):
        return request.user.has_perm("orders.decide_return")


@admin.register(ReturnLine)
class ReturnLineAdmin(ReadOnlyAdmin):
    list_display = ["ret", "order_line", "quantity", "reason", "received_quantity",
                    "restocked_quantity", "scrapped_quantity", "to_supplier_quantity"]
    list_filter = ["reason"]
    search_fields = ["ret__number", "order_line__sku", "ret__order__number"]
    list_select_related = ["ret", "order_line"]
    show_full_result_count = False


class OrderTemplateLineInline(ReadOnlyInline):
    model = OrderTemplateLine
    fields = readonly_fields = ("position", "product", "quantity")


@admin.register(OrderTemplate)
class OrderTemplateAdmin(ReadOnlyAdmin):
    """Templates are saved from an order or the entry screen and placed from
    the customer card; here they are looked up and deleted (a delete action,
    through the service)."""

    list_display = ["name", "customer", "currency", "channel", "created_by", "created_at",
                    "updated_at"]
    list_filter = ["currency", "channel"]
    search_fields = ["name", "customer__name", "customer__email"]
    list_select_related = ["customer", "created_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [OrderTemplateLineInline]
    readonly_fields = [f.name for f in OrderTemplate._meta.fields]
    actions = ["delete_selected_templates"]

    @admin.action(description=_("Delete the selected templates"),
                  permissions=["delete_template"])
    def delete_selected_templates(self, request, queryset):
        run_action(self, request, queryset.select_related(None).only("pk", "name"),
                   lambda template: services.delete_order_template(template_id=template.pk,
                                                                   actor=request.user),
                   lambda n: ngettext("%(count)d template deleted.",
                                      "%(count)d templates deleted.", n) % {"count": n},
                   label=lambda template: template.name)

    def has_delete_template_permission(self, request):
        return request.user.has_perm("orders.delete_ordertemplate")
