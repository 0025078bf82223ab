"""Project-level views: the dashboard shell, the search box, the language
switch, the progress of long jobs, the health check and the second-factor
pages."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oms.lib import audit, bulk, notices, second_factor, workqueue
from oms.lib import search as search_box
from oms.lib.auth import AuthenticatedRequest, permission_required, public
from oms.lib.errors import ApplicationError
from oms.lib.forms import OneTimeCodeForm
from oms.lib.htmx import render_partial
from oms.lib.paging import has_next_page, parse_page
from oms.lib.preferences import is_offered, save_language
from oms.lib.progress import state_for
from oms.lib.roles import ROLE_LABELS
from oms.models import Notice, OutboxMessage
from oms.templatetags.oms_links import may_open


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
@permission_required()  # signed in; each kind of record needs its own view permission
def search(request: AuthenticatedRequest) -> HttpResponse:
    """The search box: results grouped by kind (an htmx partial while typing);
    submitted, a query that is exactly one record's number opens that record."""
    error = ""
    try:
        query = search_box.clean_query(request.GET.get("q"))
    except search_box.QueryError as refused:
        query, error = "", str(refused)
    if query and not request.htmx and (url := search_box.exact_match(query, user=request.user)):
        return HttpResponseRedirect(url)
    context = {"query": query, "error": error,
               "groups": search_box.search(query, user=request.user),
               "too_short": 0 < len(query) < search_box.MIN_FRAGMENT_LENGTH}
    return render_partial(request, "oms/search.html", context, partial="results",
                          status=400 if error else 200)


@require_GET
@permission_required("oms.view_auditentry")
def audit_log(request: AuthenticatedRequest) -> HttpResponse:
    """Every audited change, newest first, filtered by person, kind, object
    and dates; a bad filter is named on the form (400) and nothing is listed."""
    form = audit.AuditFilterForm(request.GET or None)
    page, rows, status = None, list[audit.Row](), 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        page, rows = audit.page_of_rows(form.cleaned_data if form.is_bound else {},
                                        page=parse_page(request.GET.get("page")),
                                        may_open=lambda url: may_open(request.user, url))
    return render(request, "oms/audit.html", {"form": form, "page": page, "rows": rows},
                  status=status)


QUEUE_PER_PAGE = 50


def _render_queue(request: AuthenticatedRequest, kind: str, *, error: str = "",
                  status: int = 200) -> HttpResponse:
    rows: list[workqueue.Row] = []
    try:
        rows = workqueue.collect(request.user, kind=kind)
    except workqueue.UnknownKind as refused:
        error, status, kind = refused.message, 400, ""
    total = None
    if not kind and not error:
        total = len(rows)
        workqueue.remember_count(request.user, total)
    page = has_next_page(rows, page=parse_page(request.GET.get("page")), page_size=QUEUE_PER_PAGE)
    context = {"page": page, "rows": page.object_list, "kind": kind, "error": error,
               "kinds": [(source.kind, source.label)
                         for source in workqueue.sources_for(request.user)],
               "can_handle": request.user.has_perm(workqueue.HANDLE_PERMISSION),
               # The top bar's count, swapped along with an htmx answer.
               "queue_total": (total if total is not None else workqueue.count_for(request.user))
               if request.htmx else None, "queue_cap": workqueue.BADGE_CAP,
               "bulk_actions": bulk.actions_for("orders", request.user)}
    return render_partial(request, "oms/queue.html", context, partial="results",
                          target="queue-results", status=status)


@require_GET
@permission_required(workqueue.PERMISSION)
def work_queue(request: AuthenticatedRequest) -> HttpResponse:
    """What needs a person, oldest first (an htmx partial when filtered by kind)."""
    return _render_queue(request, request.GET.get("kind", ""))


@require_GET
@permission_required(workqueue.PERMISSION)
def queue_count(request: AuthenticatedRequest) -> HttpResponse:
    """The top bar's count, fetched by the page after it loads, so no page
    waits for the queue to be counted (cached for WORK_QUEUE_BADGE_SECONDS)."""
    return render(request, "oms/_queue_badge.html",
                  {"count": workqueue.count_for(request.user), "cap": workqueue.BADGE_CAP})


@require_POST
@permission_required(workqueue.PERMISSION, workqueue.HANDLE_PERMISSION)
def queue_handled(request: AuthenticatedRequest) -> HttpResponse:
    """Mark one row handled: it leaves the queue until its condition recurs."""
    post = request.POST
    kind = post.get("kind", "")
    try:
        object_id = int(post.get("object_id", ""))
    except ValueError:
        object_id = 0
    error, status = "", 200
    try:
        if object_id <= 0:
            raise ApplicationError(_("This item is not in the queue."))
        workqueue.mark_handled(kind=kind, object_id=object_id,
                               version=post.get("version", ""), note=post.get("note", ""),
                               actor=request.user)
    except ApplicationError as refused:
        error, status = refused.message, refused.status
    if request.htmx:
        return _render_queue(request, post.get("filter", ""), error=error, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Marked handled."))
    return HttpResponseRedirect(reverse("work_queue"))


NOTICES_PER_PAGE = 30
BELL_LATEST = 8


@require_GET
@permission_required()  # signed in: everyone reads their own notices
def notice_list(request: AuthenticatedRequest) -> HttpResponse:
    """The user's notices, newest first; the bell's dropdown is its "latest"
    partial (the few newest)."""
    mine = Notice.objects.filter(user=request.user).order_by("-created_at", "-id")
    if request.htmx and request.htmx.target == "bell-latest":
        items = [(notice, notices.describe(notice)) for notice in mine[:BELL_LATEST]]
        return render(request, "oms/notices.html#latest", {"items": items})
    page = has_next_page(mine, page=parse_page(request.GET.get("page")),
                         page_size=NOTICES_PER_PAGE)
    items = [(notice, notices.describe(notice)) for notice in page.object_list]
    return render(request, "oms/notices.html", {"page": page, "items": items})


@require_POST
@permission_required()
def notice_read(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Mark one notice read and open what it is about (its list otherwise)."""
    notices.mark_read(user=request.user, notice_ids=[pk])
    notice = Notice.objects.filter(pk=pk, user=request.user).first()
    url = notices.describe(notice).url if notice is not None else ""
    if request.POST.get("open") and url:
        return HttpResponseRedirect(url)
    return HttpResponseRedirect(reverse("notices"))


@require_POST
@permission_required()
def notice_read_all(request: AuthenticatedRequest) -> HttpResponse:
    notices.mark_read(user=request.user)
    return HttpResponseRedirect(reverse("notices"))


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


_WRONG_CODE = gettext_lazy(
    "This code is not right, or came too soon after a wrong one. Check the time on your "
    "phone and enter the code your app shows now.")


def _next_page(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _needs_no_code(request: AuthenticatedRequest) -> bool:
    """Verified already, or a role the second factor does not apply to."""
    verified: bool = request.user.is_verified()  # type: ignore[attr-defined]  # OTPMiddleware
    return verified or not second_factor.requires_second_factor(request.user)


def _with_next(page: str, request: HttpRequest) -> str:
    return f"{reverse(page)}?{urlencode({'next': _next_page(request)})}"


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required()  # signed in
@second_factor.second_factor_page
def otp_setup(request: AuthenticatedRequest) -> HttpResponse:
    """First time: scan the QR code (or type the secret), confirm one code."""
    if _needs_no_code(request):
        return HttpResponseRedirect(_next_page(request))
    if second_factor.confirmed_device(request.user):
        # A second device only from a verified session: the password alone
        # must never be enough to enrol a new authenticator.
        return HttpResponseRedirect(_with_next("otp_verify", request))
    device = second_factor.pending_device(user=request.user)
    form = OneTimeCodeForm(request.POST or None)
    if form.is_valid():
        if second_factor.confirm_device(request=request, device=device,
                                        token=form.cleaned_data["token"]):
            return HttpResponseRedirect(_next_page(request))
        form.add_error("token", _WRONG_CODE)
    return render(request, "registration/otp_setup.html", {
        "form": form, "next": _next_page(request),
        "qr_code": second_factor.qr_code_svg(device),
        "secret": second_factor.base32_secret(device),
    })


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required()  # signed in
@second_factor.second_factor_page
def otp_verify(request: AuthenticatedRequest) -> HttpResponse:
    """Every session: the code the authenticator app shows now."""
    if _needs_no_code(request):
        return HttpResponseRedirect(_next_page(request))
    device = second_factor.confirmed_device(request.user)
    if device is None:
        return HttpResponseRedirect(_with_next("otp_setup", request))
    form = OneTimeCodeForm(request.POST or None)
    if form.is_valid():
        if second_factor.confirm_device(request=request, device=device,
                                        token=form.cleaned_data["token"]):
            return HttpResponseRedirect(_next_page(request))
        form.add_error("token", _WRONG_CODE)
    return render(request, "registration/otp_verify.html",
                  {"form": form, "next": _next_page(request)})
