"""Buying and goods-in screens: what to buy, purchase orders, receiving.
Receiving is built like picking: the SKU field has the focus, Enter
submits, and a scan swaps only the lines (htmx partial). Thin: parse, call
one service or selector, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from fulfillment import buying, lateness, selectors
from fulfillment.receiving import receive_goods
from inventory.purchase_models import PurchaseOrderStatus
from inventory.purchasing import documents
from inventory.purchasing import selectors as purchasing_selectors
from inventory.purchasing import services as purchasing
from inventory.purchasing.inputs import PurchaseScan
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.htmx import render_partial, swap_error
from oms.lib.http import get_or_404
from oms.lib.paging import parse_page


def _render_to_buy(request: HttpRequest, *, errors: dict | None = None, error: str = "",
                   status: int = 200) -> HttpResponse:
    proposal = buying.buying_proposal()
    values = request.POST if request.method == "POST" else {}
    for supplier in proposal.suppliers:
        for line in supplier.lines:
            line.value = values.get(line.field_name, str(line.quantity))
            line.errors = (errors or {}).get(line.field_name, [])
    wanted = values.get("warehouse", "")
    return render(request, "fulfillment/purchasing/to_buy.html", {
        "proposal": proposal, "warehouses": selectors.warehouses(), "error": error,
        "warehouse_id": int(wanted) if wanted.isdigit() else None}, status=status)


@require_GET
@permission_required("inventory.add_purchaseorder")
def to_buy(request: HttpRequest) -> HttpResponse:
    """The buying proposal: per supplier, what to order and why."""
    return _render_to_buy(request)


@require_POST
@permission_required("inventory.add_purchaseorder")
def create_from_proposal(request: AuthenticatedRequest) -> HttpResponse:
    wanted = request.POST.get("warehouse", "")
    try:
        created = buying.create_from_proposal(
            post=request.POST, warehouse_id=int(wanted) if wanted.isdigit() else 0,
            actor=request.user)
    except ApplicationError as exc:
        return _render_to_buy(request, errors=exc.field_errors, error=exc.text(),
                              status=exc.status)
    messages.success(request, _("Purchase orders created as drafts: %(numbers)s. Check and "
                                "send them.") % {"numbers": ", ".join(po.number
                                                                     for po in created)})
    return redirect(f"{reverse('fulfillment:purchase_orders')}?status=draft")


@require_GET
@permission_required("inventory.view_purchaseorder")
def purchase_orders(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    query = request.GET.get("q", "").strip()[:64]
    page = purchasing_selectors.purchase_order_page(status=status, query=query,
                                                    page=parse_page(request.GET.get("page")))
    return render(request, "fulfillment/purchasing/purchase_orders.html", {
        "page": page, "status": status, "query": query,
        "statuses": PurchaseOrderStatus.choices})


def _render_purchase_order(request: HttpRequest, pk: int, *, error: str = "",
                           status: int = 200) -> HttpResponse:
    detail = get_or_404(purchasing_selectors.purchase_order_detail, purchase_order_id=pk)
    return render(request, "fulfillment/purchasing/purchase_order.html", {
        "detail": detail, "po": detail.purchase_order, "error": error}, status=status)


@require_GET
@permission_required("inventory.view_purchaseorder")
def purchase_order(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_purchase_order(request, pk)


def _act(request: AuthenticatedRequest, pk: int, call, done: str) -> HttpResponse:
    try:
        call()
    except ApplicationError as exc:
        return _render_purchase_order(request, pk, error=exc.text(), status=exc.status)
    messages.success(request, done)
    return redirect("fulfillment:purchase_order", pk)


@require_POST
@permission_required("inventory.send_purchaseorder")
def send(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: purchasing.send_purchase_order(
        purchase_order_id=pk, actor=request.user),
        _("Sent. The supplier gets the PDF by e-mail."))


@require_POST
@permission_required("inventory.change_purchaseorder")
def cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: purchasing.cancel_purchase_order(
        purchase_order_id=pk, reason=request.POST.get("reason", ""), actor=request.user),
        _("Purchase order cancelled."))


@require_POST
@permission_required("inventory.change_purchaseorder")
def reschedule(request: AuthenticatedRequest, pk: int, line_id: int) -> HttpResponse:
    if not get_or_404(purchasing_selectors.purchase_order_detail,
                      purchase_order_id=pk).has_line(line_id):
        return _render_purchase_order(request, pk, error=_("Purchase order line not found."),
                                      status=404)
    return _act(request, pk, lambda: purchasing.reschedule_line(
        line_id=line_id, expected_date=request.POST.get("expected_date", ""),
        actor=request.user), _("Expected date changed."))


@require_POST
@permission_required("inventory.receive_purchaseorder")
def close_receiving(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: purchasing.close_receiving(
        purchase_order_id=pk, actor=request.user, reason=request.POST.get("reason", "")),
        _("Receiving closed; the missing units are no longer expected."))


@require_GET
@permission_required("inventory.view_purchaseorder")
def purchase_order_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    get_or_404(purchasing_selectors.purchase_order_detail, purchase_order_id=pk)
    response = HttpResponse(documents.purchase_order_pdf(purchase_order_id=pk),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="purchase-order-{pk}.pdf"'
    return response


def _render_receiving(request: AuthenticatedRequest, pk: int, *, error: str = "",
                      notice: str = "", status: int = 200, last_sku: str = "") -> HttpResponse:
    detail = get_or_404(purchasing_selectors.purchase_order_detail, purchase_order_id=pk)
    return render_partial(request, "fulfillment/purchasing/receive.html", {
        "detail": detail, "po": detail.purchase_order, "error": error, "notice": notice,
        "last_sku": last_sku}, partial="panel", target="receive-panel", status=status)


@require_GET
@permission_required("inventory.receive_purchaseorder")
def receiving(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _render_receiving(request, pk)


@require_POST
@permission_required("inventory.receive_purchaseorder")
def receive_scan(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One scan (our SKU or the supplier's) and a quantity, 1 when left empty."""
    try:
        data = PurchaseScan.parse({"sku": request.POST.get("sku", ""),
                                   "quantity": request.POST.get("quantity", "").strip() or 1})
        result = receive_goods(purchase_order_id=pk, data=data, actor=request.user)
    except ApplicationError as exc:
        error, notice, status, sku = exc.text(), "", exc.status, ""
    else:
        line = result.receipt.line
        notice = _("%(quantity)d x %(sku)s received.") % {"quantity": data.quantity,
                                                          "sku": line.sku}
        if result.receipt.receipt.over_quantity:
            notice += " " + _("%(n)d more than ordered.") % {
                "n": result.receipt.receipt.over_quantity}
        if result.allocated:
            notice += " " + ngettext("%(n)d waiting order line got its units.",
                                     "%(n)d waiting order lines got their units.",
                                     result.allocated) % {"n": result.allocated}
        error, status, sku = "", 200, line.sku
    if request.htmx:
        response = _render_receiving(request, pk, error=error, notice=notice, status=status,
                                     last_sku=sku)
        return swap_error(response, "#receive-panel") if status >= 400 else response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("fulfillment:receiving", pk)


@require_GET
@permission_required("orders.view_order")
def late_orders(request: HttpRequest) -> HttpResponse:
    """Orders whose promised date the stock on its way cannot meet."""
    return render(request, "fulfillment/purchasing/late_orders.html",
                  {"late": lateness.late_orders()})
