"""Back-office views of the inventory app: catalogue, stock, receipts and
adjustments. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from inventory import selectors, services
from inventory.forms import StockAdjustmentForm, StockReceiptForm
from inventory.models import Product, StockLevel
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError


def _active_filter(value: str | None) -> bool | None:
    return {"1": True, "0": False}.get(value or "")


@require_GET
@permission_required("inventory.view_product")
def product_list(request: AuthenticatedRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    active = request.GET.get("active", "1")
    page = selectors.product_page(query=query, active=_active_filter(active),
                                  page=request.GET.get("page", 1))
    context = {"page": page, "products": page.object_list, "query": query, "active": active}
    if request.htmx and request.htmx.target == "product-results":
        return render(request, "inventory/product_list.html#results", context)
    return render(request, "inventory/product_list.html", context)


@require_GET
@permission_required("inventory.view_product")
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        product = selectors.product_with_stock(product_id=pk)
    except Product.DoesNotExist:
        raise Http404
    levels = list(product.stock_levels.all())
    bins = {b.warehouse_id: b.code for b in product.bins.all()}
    for level in levels:
        level.bin_code = bins.get(level.warehouse_id, "")  # type: ignore[attr-defined]  # for the template
    context = {
        "product": product,
        "levels": levels,
        "totals": {
            "on_hand": sum(lv.on_hand for lv in levels if lv.warehouse.is_active),
            "reserved": sum(lv.reserved for lv in levels if lv.warehouse.is_active),
            "available": sum(lv.available for lv in levels if lv.warehouse.is_active),
        },
        "movements": selectors.recent_movements(product_id=product.pk),
    }
    return render(request, "inventory/product_detail.html", context)


@require_GET
@permission_required("inventory.view_stocklevel")
def stock_list(request: AuthenticatedRequest) -> HttpResponse:
    warehouses = list(selectors.warehouses())
    try:
        warehouse_id = int(request.GET.get("warehouse") or 0) or None
    except ValueError:
        warehouse_id = None
    query = request.GET.get("q", "").strip()
    low_only = request.GET.get("low") == "1"
    page = selectors.stock_page(warehouse_id=warehouse_id, query=query, low_only=low_only,
                                page=request.GET.get("page", 1))
    context = {"page": page, "levels": page.object_list, "warehouses": warehouses,
               "warehouse_id": warehouse_id, "query": query, "low_only": low_only}
    if request.htmx and request.htmx.target == "stock-results":
        return render(request, "inventory/stock_list.html#results", context)
    return render(request, "inventory/stock_list.html", context)


def _initial(request: HttpRequest) -> dict:
    """Prefill from ?level=<stock level id> or ?product=<id>&warehouse=<id>."""
    level_id = request.GET.get("level") or ""
    if level_id.isdigit():
        level = StockLevel.objects.select_related("product").filter(pk=level_id).first()
        if level:
            return {"sku": level.product.sku, "warehouse": level.warehouse_id}
    initial: dict = {}
    product_id = request.GET.get("product") or ""
    if product_id.isdigit():
        product = Product.objects.filter(pk=product_id).first()
        if product:
            initial["sku"] = product.sku
    warehouse_id = request.GET.get("warehouse") or ""
    if warehouse_id.isdigit():
        initial["warehouse"] = int(warehouse_id)
    return initial


def _stock_form_view(request: HttpRequest, *, form_class, template: str, write, done: str):
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                movement = write(form=form, data=data)
            except ApplicationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, done % {
                    "quantity": movement.quantity, "sku": form.product.sku,
                    "warehouse": data["warehouse"].code})
                return redirect("inventory:product_detail", pk=form.product.pk)
        status = 400
    else:
        form = form_class(initial=_initial(request))
        status = 200
    skus = Product.objects.filter(is_active=True).order_by("sku").values_list(
        "sku", flat=True)[:500]
    return render(request, template, {"form": form, "skus": skus}, status=status)


@require_http_methods(["GET", "POST"])
@permission_required("inventory.receive_stock")
def receive(request: AuthenticatedRequest) -> HttpResponse:
    def write(*, form, data):
        return services.receive_stock(
            product=form.product, warehouse=data["warehouse"], quantity=data["quantity"],
            reference=data["reference"], reason=data["reason"], actor=request.user)

    return _stock_form_view(request, form_class=StockReceiptForm,
                            template="inventory/stock_receipt.html", write=write,
                            done=_("Received %(quantity)d × %(sku)s into %(warehouse)s."))


@require_http_methods(["GET", "POST"])
@permission_required("inventory.adjust_stock")
def adjust(request: AuthenticatedRequest) -> HttpResponse:
    def write(*, form, data):
        return services.adjust_stock(
            product=form.product, warehouse=data["warehouse"], quantity=data["quantity"],
            reason=data["reason"], reference=data["reference"], actor=request.user)

    return _stock_form_view(request, form_class=StockAdjustmentForm,
                            template="inventory/stock_adjustment.html", write=write,
                            done=_("Adjusted %(sku)s in %(warehouse)s by %(quantity)+d."))
