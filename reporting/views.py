"""Reporting views: the manager dashboard and the CSV export of the order list.

Thin: the figures come from reporting.selectors, the charts from
reporting.trends, the export rows from the same selector the order list uses
(orders.selectors.search_orders), so the file holds exactly the orders the
list shows for the same filters.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from oms.lib import bulk
from oms.lib.auth import permission_required
from oms.lib.errors import ApplicationError
from orders import selectors as order_selectors
from reporting import exports, selectors, trends


@require_GET
@permission_required("reporting.view_manager_dashboard")
def manager_dashboard(request: HttpRequest) -> HttpResponse:
    by = request.GET.get("by", "day")
    error = None if by in trends.PERIODS else _(
        "Unknown period “%(by)s”: the charts are by day or by week.") % {"by": by[:20]}
    return render(request, "reporting/manager_dashboard.html",
                  {"report": selectors.manager_dashboard(),
                   "trends": trends.trends(by="day" if error else by),
                   "periods": trends.PERIOD_CHOICES, "error": error},
                  status=400 if error else 200)


@require_GET
@permission_required("orders.view_order", "orders.export_orders")
def order_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered order list as CSV; with `ids` (the list's bulk selection)
    only those orders, checked like every bulk action (a bad selection: 400)."""
    filters = order_selectors.filters_from_params(request.GET)
    order_ids = None
    if "ids" in request.GET:
        try:
            order_ids = list(bulk.select("orders", request.GET.getlist("ids")))
        except ApplicationError as refused:
            return render(request, "error.html", {"error": refused.message}, status=400)
        filters = order_selectors.OrderFilters(sort=filters.sort)
    response = StreamingHttpResponse(exports.order_csv_rows(filters, order_ids=order_ids),
                                     content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
