"""Back-office views of the inventory app: catalogue, stock, receipts and
adjustments. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory import selectors, services
from inventory.costs import set_product_cost
from inventory.forms import ProductCostForm, StockAdjustmentForm, StockReceiptForm
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.htmx import render_partial
from oms.lib.http import get_or_404
from oms.lib.validation import errors_onto_form


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
    return render_partial(request, "inventory/product_list.html", context, partial="results",
                          target="product-results")


@require_GET
@permission_required("inventory.view_product")
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _product_page(request, pk, cost_form=ProductCostForm())


def _product_page(request: HttpRequest, pk: int, *, cost_form: ProductCostForm,
                  status: int = 200) -> HttpResponse:
    stock = get_or_404(selectors.product_with_stock, product_id=pk)
    context = {"product": stock.product, "levels": stock.levels, "totals": stock.totals,
               "movements": selectors.recent_movements(product_id=pk),
               "costs": selectors.product_costs(product_id=pk), "cost_form": cost_form}
    return render(request, "inventory/product_detail.html", context, status=status)


@require_POST
@permission_required("inventory.change_productcost")
def product_cost(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Set or remove the product's unit cost in one currency."""
    form = ProductCostForm(request.POST)
    if form.is_valid():
        try:
            set_product_cost(product_id=pk, data=form.cleaned_data, actor=request.user)
        except ApplicationError as error:
            errors_onto_form(form, error)
        else:
            messages.success(request, _("Unit cost in %(currency)s saved.")
                             % {"currency": form.cleaned_data["currency"]})
            return redirect("inventory:product_detail", pk=pk)
    return _product_page(request, pk, cost_form=form, status=400)


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
    return render_partial(request, "inventory/stock_list.html", context, partial="results",
                          target="stock-results")


def _stock_form_view(request: HttpRequest, *, form_class, template: str, write, done: str):
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                movement = write(form=form, data=data)
            except ApplicationError as error:
                errors_onto_form(form, error, names={"product": "sku"})
            else:
                messages.success(request, done % {
                    "quantity": movement.quantity, "sku": form.product.sku,
                    "warehouse": data["warehouse"].code})
                return redirect("inventory:product_detail", pk=form.product.pk)
        status = 400
    else:
        form = form_class(initial=selectors.stock_form_initial(
            level_id=request.GET.get("level"), product_id=request.GET.get("product"),
            warehouse_id=request.GET.get("warehouse")))
        status = 200
    return render(request, template, {"form": form, "skus": selectors.sku_options()},
                  status=status)


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
