"""Back-office pages that move stock inside the company: transfers between
warehouses and cycle counts. Thin: parse, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from inventory import counts, selectors
from inventory.forms import StartCountForm, StockTransferForm
from inventory.transfers import TransferStock, transfer_stock
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.htmx import render_partial, swap_error
from oms.lib.http import get_or_404
from oms.lib.validation import errors_onto_form


@require_http_methods(["GET", "POST"])
@permission_required("inventory.add_stocktransfer")
def transfer(request: AuthenticatedRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = StockTransferForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                moved = transfer_stock(TransferStock.parse({
                    "product": form.product.pk, "from_warehouse": data["from_warehouse"].pk,
                    "to_warehouse": data["to_warehouse"].pk, "quantity": data["quantity"],
                    "note": data["note"]}), actor=request.user)
            except ApplicationError as error:
                errors_onto_form(form, error, names={"product": "sku"})
            else:
                messages.success(request, _(
                    "%(reference)s: moved %(quantity)d × %(sku)s from %(from)s to %(to)s.") % {
                    "reference": moved.reference, "quantity": moved.quantity,
                    "sku": form.product.sku, "from": data["from_warehouse"].code,
                    "to": data["to_warehouse"].code})
                return redirect("inventory:transfer")
        status = 400
    else:
        initial = selectors.stock_form_initial(
            level_id=request.GET.get("level"), product_id=request.GET.get("product"),
            warehouse_id=request.GET.get("warehouse"))
        if "warehouse" in initial:
            initial["from_warehouse"] = initial.pop("warehouse")
        form = StockTransferForm(initial=initial)
    return render(request, "inventory/stock_transfer.html",
                  {"form": form, "skus": selectors.sku_options(),
                   "transfers": selectors.recent_transfers()}, status=status)


@require_GET
@permission_required("inventory.view_stockcount")
def count_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "inventory/count_list.html",
                  {"form": StartCountForm(), "counts": selectors.counts()})


@require_POST
@permission_required("inventory.add_stockcount")
def count_start(request: AuthenticatedRequest) -> HttpResponse:
    form = StartCountForm(request.POST)
    if form.is_valid():
        try:
            started = counts.start_count(counts.StartCount.parse({
                "warehouse": form.cleaned_data["warehouse"].pk,
                "note": form.cleaned_data["note"]}), actor=request.user)
        except ApplicationError as error:
            errors_onto_form(form, error)
        else:
            return redirect("inventory:count", pk=started.pk)
    return render(request, "inventory/count_list.html",
                  {"form": form, "counts": selectors.counts()}, status=400)


def _count_page(request: AuthenticatedRequest, pk: int, *, error: str = "", notice: str = "",
                last_sku: str = "", status: int = 200) -> HttpResponse:
    sheet = get_or_404(selectors.count_sheet, count_id=pk)
    context = {"sheet": sheet, "count": sheet.count, "error": error, "notice": notice,
               "last_sku": last_sku, "skus": selectors.sku_options(),
               "can_count": request.user.has_perm("inventory.add_stockcount")}
    response = render_partial(request, "inventory/count.html", context, partial="sheet",
                              status=status)
    return swap_error(response, "#count-sheet") if request.htmx and status >= 400 else response


def _respond(request: AuthenticatedRequest, pk: int, *, error: str = "", notice: str = "",
             last_sku: str = "", status: int = 200) -> HttpResponse:
    if request.htmx:
        return _count_page(request, pk, error=error, notice=notice, last_sku=last_sku,
                           status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("inventory:count", pk=pk)


@require_GET
@permission_required("inventory.view_stockcount")
def count(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _count_page(request, pk)


def _entered_quantity(raw: str) -> object:
    raw = raw.strip()
    if not raw:
        return 1
    try:
        return int(raw)
    except ValueError:
        return raw  # the input refuses it with its own words


@require_POST
@permission_required("inventory.add_stockcount")
def count_enter(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One scan (or typed SKU) and the units found, 1 when left empty."""
    try:
        entry = counts.CountEntry.parse({
            "sku": request.POST.get("sku", ""),
            "quantity": _entered_quantity(request.POST.get("quantity", ""))})
        line = counts.enter_count(entry, count_id=pk, actor=request.user)
    except ApplicationError as error:
        return _respond(request, pk, error=error.text(), status=error.status)
    return _respond(request, pk, last_sku=line.product.sku, notice=_(
        "%(sku)s: %(counted)d counted so far.") % {"sku": line.product.sku,
                                                   "counted": line.counted})


@require_POST
@permission_required("inventory.add_stockcount")
def count_remove(request: AuthenticatedRequest, pk: int, product_id: int) -> HttpResponse:
    try:
        counts.remove_count_line(count_id=pk, product_id=product_id, actor=request.user)
    except ApplicationError as error:
        return _respond(request, pk, error=error.text(), status=error.status)
    return _respond(request, pk, notice=_("Removed from the count; count it again."))


@require_POST
@permission_required("inventory.add_stockcount")
def count_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        done = counts.confirm_count(count_id=pk, actor=request.user)
    except ApplicationError as error:
        return _respond(request, pk, error=error.text(), status=error.status)
    messages.success(request, _("Count %(reference)s confirmed; the variances are in the "
                                "stock ledger.") % {"reference": done.reference})
    url = reverse("inventory:count", args=[pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@permission_required("inventory.add_stockcount")
def count_cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        done = counts.cancel_count(count_id=pk, actor=request.user)
    except ApplicationError as error:
        return _respond(request, pk, error=error.text(), status=error.status)
    messages.success(request, _("Count %(reference)s cancelled; no stock changed.")
                     % {"reference": done.reference})
    return redirect("inventory:count_list")
