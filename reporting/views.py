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

from oms.lib.auth import permission_required
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
@permission_required("orders.view_order", "reporting.view_reports")
def order_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = order_selectors.filters_from_params(request.GET)
    response = StreamingHttpResponse(exports.order_csv_rows(filters),
                                     content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
