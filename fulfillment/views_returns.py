"""Goods-in of returns: the returns waiting for the warehouse, and one
return's receiving screen, built like picking (the SKU field has the focus,
Enter submits, a scan swaps only the lines), then the inspection of every
unit. Thin: parse, call one service or selector, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fulfillment import returns as warehouse_returns
from fulfillment.inputs import InspectionInput, PickScan
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.htmx import render_partial, swap_error
from oms.lib.http import get_or_404
from orders import return_selectors


@require_GET
@permission_required("orders.receive_return")
def returns_to_receive(request: HttpRequest) -> HttpResponse:
    return render(request, "fulfillment/returns/list.html", {
        "returns": return_selectors.returns_for_warehouse()})


def _render(request: HttpRequest, pk: int, *, error: str = "", notice: str = "",
            status: int = 200, last_sku: str = "", errors: dict | None = None) -> HttpResponse:
    ret = get_or_404(return_selectors.return_detail, return_id=pk)
    return render_partial(request, "fulfillment/returns/receive.html", {
        "ret": ret, "lines": list(ret.lines.all()), "error": error, "notice": notice,
        "last_sku": last_sku, "errors": errors or {}, "posted": request.POST,
    }, partial="panel", target="return-receive-panel", status=status)


@require_GET
@permission_required("orders.receive_return")
def receive(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, pk)


@require_POST
@permission_required("orders.receive_return")
def scan(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One scan and a quantity, 1 when left empty."""
    get_or_404(return_selectors.return_detail, return_id=pk)
    raw = request.POST.get("quantity", "").strip() or "1"
    try:
        data = PickScan(sku=request.POST.get("sku", "").strip(),
                        quantity=int(raw) if raw.isdigit() else -1)
        line = warehouse_returns.scan_return(return_id=pk, data=data, actor=request.user)
    except ApplicationError as exc:
        error, notice, status, sku = exc.text(), "", exc.status, ""
    else:
        error, status, sku = "", 200, line.order_line.sku
        notice = _("%(quantity)d x %(sku)s received.") % {"quantity": data.quantity, "sku": sku}
    if request.htmx:
        response = _render(request, pk, error=error, notice=notice, status=status, last_sku=sku)
        return swap_error(response, "#return-receive-panel") if status >= 400 else response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("fulfillment:receive_return", pk)


@require_POST
@permission_required("orders.receive_return")
def finish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    get_or_404(return_selectors.return_detail, return_id=pk)
    try:
        warehouse_returns.finish_receiving(return_id=pk, actor=request.user)
    except ApplicationError as exc:
        return _render(request, pk, error=exc.text(), status=exc.status)
    messages.success(request, _("Return received: inspect each unit now."))
    return redirect("fulfillment:receive_return", pk)


@require_POST
@permission_required("orders.receive_return")
def inspect(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    ret = get_or_404(return_selectors.return_detail, return_id=pk)
    try:
        data = InspectionInput.from_form(request.POST, [line.pk for line in ret.lines.all()])
        ret = warehouse_returns.inspect(return_id=pk, data=data, actor=request.user)
    except ApplicationError as exc:
        return _render(request, pk, error=exc.text(), status=exc.status,
                       errors=exc.field_errors)
    messages.success(request, _("Inspection saved.") if not ret.awaits_settlement
                     else _("Return inspected: accounting settles it now."))
    return redirect("fulfillment:receive_return", pk)
