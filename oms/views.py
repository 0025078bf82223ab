"""Project-level views: the dashboard shell, health check, error pages."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from oms.lib.auth import permission_required, public


@require_GET
@permission_required("oms.view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "oms/dashboard.html", {})


@require_GET
@public
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
