"""Reporting views: the manager dashboard and the CSV export of the order list.

Thin: the figures come from reporting.selectors, the export rows from the
same selector the order list uses (orders.selectors.search_orders), so the
file holds exactly the orders the list shows for the same filters.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from oms.lib.auth import permission_required
from orders import selectors as order_selectors
from reporting import exports, selectors


@require_GET
@permission_required("reporting.view_manager_dashboard")
def manager_dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "reporting/manager_dashboard.html",
                  {"report": selectors.manager_dashboard()})


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
