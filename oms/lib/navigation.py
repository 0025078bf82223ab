"""The back-office navigation, filtered by what the user may open.

Each entry names a URL and the permission its view requires, so the menu
never shows a link that would answer 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: Promise
    url_name: str
    permission: str
    section: Promise


NAVIGATION: list[NavItem] = [
    NavItem(_("Dashboard"), "dashboard", "oms.view_dashboard", _("Overview")),
    NavItem(_("Work queue"), "work_queue", "oms.view_work_queue", _("Overview")),
    NavItem(_("Customers"), "customers:list", "customers.view_customer", _("Customers")),
    NavItem(_("Products"), "inventory:product_list", "inventory.view_product", _("Inventory")),
    NavItem(_("Stock"), "inventory:stock_list", "inventory.view_stocklevel", _("Inventory")),
    NavItem(_("Receive stock"), "inventory:receive", "inventory.receive_stock", _("Inventory")),
    NavItem(_("Transfer stock"), "inventory:transfer", "inventory.add_stocktransfer",
            _("Inventory")),
    NavItem(_("Stock counts"), "inventory:count_list", "inventory.view_stockcount",
            _("Inventory")),
    NavItem(_("Orders"), "orders:list", "orders.view_order", _("Orders")),
    NavItem(_("New order"), "orders:entry", "orders.add_order", _("Orders")),
    NavItem(_("Import orders"), "orders:import", "orders.import_orders", _("Orders")),
    NavItem(_("Price lists"), "orders:price_lists", "orders.view_pricelist", _("Orders")),
    NavItem(_("Discount codes"), "orders:discount_codes", "orders.view_discountcode",
            _("Orders")),
    NavItem(_("Approvals"), "billing:approval_queue", "orders.approve_order", _("Orders")),
    NavItem(_("Late orders"), "fulfillment:late_orders", "orders.view_order", _("Orders")),
    NavItem(_("Returns"), "orders:returns", "orders.view_return", _("Orders")),
    NavItem(_("To pick"), "fulfillment:to_pick", "fulfillment.add_picklist", _("Warehouse")),
    NavItem(_("Pick lists"), "fulfillment:pick_lists", "fulfillment.view_picklist",
            _("Warehouse")),
    NavItem(_("To pack"), "fulfillment:to_pack", "fulfillment.add_shipment", _("Warehouse")),
    NavItem(_("Shipments"), "fulfillment:shipments", "fulfillment.view_shipment",
            _("Warehouse")),
    NavItem(_("Returns to receive"), "fulfillment:returns", "orders.receive_return",
            _("Warehouse")),
    NavItem(_("What to buy"), "fulfillment:to_buy", "inventory.add_purchaseorder",
            _("Purchasing")),
    NavItem(_("Purchase orders"), "fulfillment:purchase_orders", "inventory.view_purchaseorder",
            _("Purchasing")),
    NavItem(_("Invoices"), "billing:invoice_list", "billing.view_invoice", _("Billing")),
    NavItem(_("Receivables"), "billing:receivables", "billing.view_invoice", _("Billing")),
    NavItem(_("Manager dashboard"), "reporting:manager_dashboard",
            "reporting.view_manager_dashboard", _("Reports")),
    NavItem(_("Audit"), "audit", "oms.view_auditentry", _("Reports")),
    NavItem(_("Scheduled reports"), "reporting:report_subscription_list",
            "reporting.view_reportsubscription", _("Reports")),
]


def items_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    visible = []
    for item in NAVIGATION:
        if user.has_perm(item.permission):
            visible.append({"label": item.label, "url": reverse(item.url_name),
                            "url_name": item.url_name, "section": item.section})
    return visible


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = items_for(user)
    # One entry is current: the one whose URL is the longest prefix of this
    # page's path (/orders/entry/lines/ -> "New order", not also "Orders").
    # The dashboard at "/" counts only on itself.
    path = request.path
    matching = [item for item in items
                if path == item["url"] or (item["url"] != "/" and path.startswith(item["url"]))]
    current = max(matching, key=lambda item: len(item["url"]), default=None)
    for item in items:
        item["active"] = item is current
    return {"nav_items": items}
