"""Project-level views: the dashboard shell, the language switch, the progress
of long jobs and the health check."""

from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import i18n
from django.views.decorators.http import require_GET, require_POST

from oms.lib.auth import AuthenticatedRequest, permission_required, public
from oms.lib.preferences import is_offered, save_language
from oms.lib.progress import state_for
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


@require_POST
@public
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (cookie and redirect); a signed-in user's
    choice is also saved with the user, so it holds on every device."""
    response = i18n.set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and is_offered(language):
        save_language(user=request.user, language=language, request=request)
    return response


@require_GET
@permission_required()  # signed in; the job itself must be the reader's own
def progress(request: AuthenticatedRequest, key: str) -> HttpResponse:
    """A long job's bar (htmx partial): polled until the job is done."""
    state = state_for(key, user_id=request.user.pk)
    if state is None:
        raise Http404
    return render(request, "_partials/progress.html", {"job": state, "key": key})
