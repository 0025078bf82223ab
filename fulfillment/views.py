"""Warehouse screens: pick, pack, ship, deliver. Built for speed: the SKU or
weight field has the focus, Enter submits, buttons are big, and the scan on
the pick list screen swaps only the lines (htmx partial). Thin: parse, call
one service or selector, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from fulfillment import documents, selectors, services
from fulfillment.inputs import Handover, Packing, PickScan, Unpick
from fulfillment.models import PackageType, PickList, PickListLine, Shipment
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.htmx import render_partial, swap_error
from oms.lib.http import get_or_404
from oms.lib.paging import parse_page


def _warehouse(request: HttpRequest, warehouses: list):
    """The warehouse chosen in ?warehouse= (or the form), else the first one."""
    wanted = request.POST.get("warehouse") or request.GET.get("warehouse")
    for warehouse in warehouses:
        if str(warehouse.pk) == wanted:
            return warehouse
    return warehouses[0] if warehouses else None


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
@permission_required("fulfillment.add_picklist")
def to_pick(request: HttpRequest) -> HttpResponse:
    """Approved orders waiting in a warehouse: tick them, make one pick list."""
    warehouses = selectors.warehouses()
    warehouse = _warehouse(request, warehouses)
    orders = selectors.orders_to_pick(warehouse_id=warehouse.pk) if warehouse else []
    return render(request, "fulfillment/to_pick.html", {
        "warehouses": warehouses, "warehouse": warehouse, "orders": orders,
        "limit": selectors.MAX_TO_PICK})


@require_POST
@permission_required("fulfillment.add_picklist")
def create_pick_list(request: AuthenticatedRequest) -> HttpResponse:
    warehouses = selectors.warehouses()
    warehouse = _warehouse(request, warehouses)
    order_ids = [int(value) for value in request.POST.getlist("order") if value.isdigit()]
    try:
        pick_list = services.create_pick_list(
            warehouse_id=warehouse.pk if warehouse else 0, order_ids=order_ids,
            actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.text())
        return redirect(f"{reverse('fulfillment:to_pick')}?warehouse="
                        f"{warehouse.pk if warehouse else ''}")
    messages.success(request, _("Pick list %(number)s created.") % {"number": pick_list.number})
    return redirect("fulfillment:pick_list", pick_list.pk)


@require_GET
@permission_required("fulfillment.view_picklist")
def pick_lists(request: HttpRequest) -> HttpResponse:
    warehouses = selectors.warehouses()
    wanted = request.GET.get("warehouse", "")
    warehouse_id = int(wanted) if wanted.isdigit() else None
    status = request.GET.get("status", "open")
    page = selectors.pick_list_page(warehouse_id=warehouse_id, status=status,
                                    page=parse_page(request.GET.get("page")))
    return render(request, "fulfillment/pick_lists.html", {
        "page": page, "warehouses": warehouses, "warehouse_id": warehouse_id,
        "status": status, "statuses": PickList.Status.choices})


def _render_pick_list(request: AuthenticatedRequest, pk: int, *, error: str = "", notice: str = "",
                      status: int = 200, last_sku: str = "") -> HttpResponse:
    detail = get_or_404(selectors.pick_list_detail, pick_list_id=pk)
    context = {"detail": detail, "pick_list": detail.pick_list, "error": error,
               "notice": notice, "last_sku": last_sku,
               "can_pick": request.user.has_perm("fulfillment.change_picklist")}
    return render_partial(request, "fulfillment/pick_list.html", context, partial="panel",
                          target="pick-panel", status=status)


@require_GET
@permission_required("fulfillment.view_picklist")
def pick_list(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _render_pick_list(request, pk)


@require_POST
@permission_required("fulfillment.change_picklist")
def scan(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One scan (or typed SKU) and a quantity, 1 when left empty."""
    try:
        scan = PickScan.parse(sku=request.POST.get("sku", ""),
                              quantity=request.POST.get("quantity", ""))
        changed = services.confirm_pick(pick_list_id=pk, data=scan, actor=request.user)
    except ApplicationError as exc:
        return _respond_pick(request, pk, error=exc.text(), status=exc.status)
    notice = _("%(quantity)d x %(sku)s picked.") % {"quantity": scan.quantity,
                                                     "sku": changed[0].sku}
    return _respond_pick(request, pk, notice=notice, last_sku=changed[0].sku)


@require_POST
@permission_required("fulfillment.change_picklist")
def unpick(request: AuthenticatedRequest, pk: int, line_id: int) -> HttpResponse:
    """Picked units of one line back on the shelf (before packing)."""
    get_or_404(PickListLine.objects.filter(pick_list_id=pk).get, pk=line_id)
    try:
        data = Unpick.parse(quantity=request.POST.get("quantity", ""),
                            reason=request.POST.get("reason", ""))
        line = services.unpick(pick_line_id=line_id, data=data, actor=request.user)
    except ApplicationError as exc:
        return _respond_pick(request, pk, error=exc.text(), status=exc.status)
    notice = _("%(quantity)d x %(sku)s unpicked: back in bin %(bin)s, still reserved for "
               "%(number)s.") % {"quantity": data.quantity, "sku": line.sku,
                                 "bin": line.bin_code or "—", "number": line.order.number}
    return _respond_pick(request, pk, notice=notice, last_sku=line.sku)


def _respond_pick(request: AuthenticatedRequest, pk: int, *, error: str = "", notice: str = "",
                  status: int = 200, last_sku: str = "") -> HttpResponse:
    if request.htmx:
        response = _render_pick_list(request, pk, error=error, notice=notice, status=status,
                                     last_sku=last_sku)
        return swap_error(response, "#pick-panel") if status >= 400 else response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("fulfillment:pick_list", pk)


@require_POST
@permission_required("fulfillment.change_picklist")
def complete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        pick_list_ = services.complete_pick_list(pick_list_id=pk, actor=request.user,
                                                 reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _respond_pick(request, pk, error=exc.text(), status=exc.status)
    messages.success(request, _("Pick list %(number)s done. Pack the orders now.")
                     % {"number": pick_list_.number})
    url = f"{reverse('fulfillment:to_pack')}?warehouse={pick_list_.warehouse_id}"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_GET
@permission_required("fulfillment.view_picklist")
def pick_list_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(get_or_404(documents.pick_list_pdf, pick_list_id=pk), f"pick-list-{pk}.pdf")


@require_GET
@permission_required("fulfillment.add_shipment")
def to_pack(request: HttpRequest) -> HttpResponse:
    warehouses = selectors.warehouses()
    warehouse = _warehouse(request, warehouses)
    orders = selectors.orders_to_pack(warehouse_id=warehouse.pk) if warehouse else []
    return render(request, "fulfillment/to_pack.html", {
        "warehouses": warehouses, "warehouse": warehouse, "orders": orders})


def _render_pack(request: HttpRequest, warehouse_id: int, order_id: int, *, error: str = "",
                 errors: dict | None = None, status: int = 200) -> HttpResponse:
    view = get_or_404(selectors.packing_view, order_id=order_id, warehouse_id=warehouse_id)
    return render(request, "fulfillment/pack.html", {
        "view": view, "order": view.order, "warehouse": view.warehouse,
        "package_types": PackageType.choices, "error": error, "errors": errors or {},
        "values": request.POST if request.method == "POST" else {}}, status=status)


@require_GET
@permission_required("fulfillment.add_shipment")
def pack_form(request: HttpRequest, warehouse_id: int, order_id: int) -> HttpResponse:
    return _render_pack(request, warehouse_id, order_id)


@require_POST
@permission_required("fulfillment.add_shipment")
def pack(request: AuthenticatedRequest, warehouse_id: int, order_id: int) -> HttpResponse:
    try:
        packing = Packing.parse(package_type=request.POST.get("package_type", ""),
                                weight=request.POST.get("weight", ""))
        shipment = services.pack(order_id=order_id, warehouse_id=warehouse_id, data=packing,
                                 actor=request.user)
    except ApplicationError as exc:
        return _render_pack(request, warehouse_id, order_id, error=exc.message,
                            errors=exc.field_errors, status=exc.status)
    messages.success(request, _("Packed as %(number)s. Choose the carrier.")
                     % {"number": shipment.number})
    return redirect("fulfillment:shipment", shipment.pk)


@require_GET
@permission_required("fulfillment.view_shipment")
def shipments(request: AuthenticatedRequest) -> HttpResponse:
    warehouses = selectors.warehouses()
    wanted = request.GET.get("warehouse", "")
    warehouse_id = int(wanted) if wanted.isdigit() else None
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()[:64]
    page = selectors.shipment_page(status=status, warehouse_id=warehouse_id, query=query,
                                   page=parse_page(request.GET.get("page")))
    context = {"page": page, "warehouses": warehouses, "warehouse_id": warehouse_id,
               "status": status, "query": query, "statuses": Shipment.Status.choices}
    return render_partial(request, "fulfillment/shipments.html", context, partial="results",
                          target="shipment-results")


def _render_shipment(request: HttpRequest, pk: int, *, error: str = "",
                     errors: dict | None = None, status: int = 200) -> HttpResponse:
    shipment = get_or_404(selectors.shipment_detail, shipment_id=pk)
    services_ = selectors.carrier_services() if shipment.is_packed else []
    return render(request, "fulfillment/shipment.html", {
        "shipment": shipment, "order": shipment.order, "carrier_services": services_,
        "suggested_service": selectors.suggested_service(
            services_, requested=shipment.order.requested_carrier),
        "error": error, "errors": errors or {},
        "values": request.POST if request.method == "POST" else {},
        "can_ship": request.user.has_perm("fulfillment.change_shipment"),
        "to_follow": selectors.to_follow(shipment=shipment)},
        status=status)


@require_GET
@permission_required("fulfillment.view_shipment")
def shipment(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_shipment(request, pk)


@require_POST
@permission_required("fulfillment.change_shipment")
def ship(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        handover = Handover.parse(carrier_service_id=request.POST.get("carrier_service"),
                                  tracking_number=request.POST.get("tracking_number", ""),
                                  shipping_cost=request.POST.get("shipping_cost", ""))
        services.ship(shipment_id=pk, data=handover, actor=request.user)
    except ApplicationError as exc:
        return _render_shipment(request, pk, error=exc.message, errors=exc.field_errors,
                                status=exc.status)
    messages.success(request, _("Shipped. The customer gets the tracking number by e-mail."))
    return redirect("fulfillment:shipment", pk)


@require_POST
@permission_required("fulfillment.change_shipment")
def deliver(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        services.confirm_delivery(shipment_id=pk, actor=request.user,
                                  note=request.POST.get("note", ""))
    except ApplicationError as exc:
        return _render_shipment(request, pk, error=exc.message, status=exc.status)
    messages.success(request, _("Delivery confirmed."))
    return redirect("fulfillment:shipment", pk)


@require_GET
@permission_required("fulfillment.view_shipment")
def packing_slip_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(get_or_404(documents.packing_slip_pdf, shipment_id=pk),
                f"packing-slip-{pk}.pdf")


@require_GET
@permission_required("fulfillment.view_shipment")
def shipping_label_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(get_or_404(documents.shipping_label_pdf, shipment_id=pk), f"label-{pk}.pdf")
