"""Project-level views: the dashboard shell and the health check."""

from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from oms.lib.auth import permission_required, public
from oms.lib.roles import ROLE_LABELS
from oms.models import OutboxMessage


@require_GET
@permission_required("oms.view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"roles": [ROLE_LABELS.get(group.name, group.name)
                                         for group in request.user.groups.order_by("name")]}
    if request.user.has_perm("oms.view_outboxmessage"):
        # One aggregate over the partial "pending" index and the status column.
        context["outbox"] = OutboxMessage.objects.aggregate(
            pending=Count("pk", filter=Q(status=OutboxMessage.Status.PENDING)),
            failed=Count("pk", filter=Q(status=OutboxMessage.Status.FAILED)),
        )
    return render(request, "oms/dashboard.html", context)


@require_GET
@public
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
