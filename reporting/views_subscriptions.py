"""Back office for scheduled reports: subscriptions, their run history,
"send now", preview and retry; and the public signed download link.

Thin: the form builds the typed input, reporting.subscriptions writes, its
selectors read (the preview: the report's own SQL, first rows only).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from django.contrib import messages
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oms.lib.auth import AuthenticatedRequest, permission_required, public
from oms.lib.errors import ApplicationError
from oms.lib.htmx import render_partial
from oms.lib.progress import Progress
from reporting import subscriptions
from reporting.forms import SubscriptionForm
from reporting.models import ReportRun, ReportSubscription
from reporting.reports import builders
from reporting.subscriptions import SubscriptionData, selectors


@require_GET
@permission_required("reporting.view_reportsubscription")
def subscription_list(request: HttpRequest) -> HttpResponse:
    return render(request, "reporting/subscription_list.html",
                  {"items": selectors.subscription_list()})


def _form_page(request: HttpRequest, form: SubscriptionForm,
               subscription: ReportSubscription | None, status: int = 200) -> HttpResponse:
    return render(request, "reporting/subscription_form.html",
                  {"form": form, "subscription": subscription}, status=status)


def _submit(request: HttpRequest, subscription: ReportSubscription | None,
            save: Callable[[SubscriptionData], ReportSubscription]) -> HttpResponse:
    """The posted form saved through `save`, or shown again with its errors."""
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        try:
            saved = save(form.to_data())
        except ApplicationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Subscription saved."))
            return redirect("reporting:report_subscription_detail", saved.pk)
    return _form_page(request, form, subscription, status=400)


@require_http_methods(["GET", "POST"])
@permission_required("reporting.add_reportsubscription")
def subscription_create(request: AuthenticatedRequest) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, SubscriptionForm(initial={
            "report": "sales_summary", "recipients": [request.user.pk], "is_active": True,
            "send_time": time(7, 0), "language": request.LANGUAGE_CODE}), None)
    return _submit(request, None, lambda data: subscriptions.create_subscription(
        data=data, actor=request.user))


@require_http_methods(["GET", "POST"])
@permission_required("reporting.change_reportsubscription")
def subscription_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(ReportSubscription, pk=pk)
    if request.method == "GET":
        return _form_page(request, SubscriptionForm(
            initial=SubscriptionForm.initial_for(subscription)), subscription)
    return _submit(request, subscription, lambda data: subscriptions.update_subscription(
        subscription_id=pk, data=data, actor=request.user))


@require_GET
@permission_required("reporting.view_reportsubscription")
def subscription_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    context = selectors.subscription_detail(subscription_id=pk)
    context["deletable"] = context["subscription"].is_deletable_by(request.user)
    return render(request, "reporting/subscription_detail.html", context)


@require_GET
@permission_required("reporting.view_reportsubscription")
def subscription_preview(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The headline figures and the first rows, for the period the next run
    would cover if it ran now; nothing is stored or sent."""
    context = selectors.subscription_preview(subscription_id=pk)
    return render_partial(request, "reporting/subscription_preview.html", context,
                          partial="preview")


@require_POST
@permission_required("reporting.change_reportsubscription")
def subscription_send_now(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    get_object_or_404(ReportSubscription, pk=pk)
    subscriptions.request_run(subscription_id=pk, actor=request.user)
    messages.success(request, _("The report is being built and sent; the run history "
                                "shows its outcome."))
    return redirect("reporting:report_subscription_detail", pk)


@require_POST
@permission_required("reporting.change_reportsubscription")
def subscription_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    get_object_or_404(ReportSubscription, pk=pk)
    try:
        subscriptions.delete_subscription(subscription_id=pk, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("reporting:report_subscription_detail", pk)
    messages.success(request, _("Subscription deleted."))
    return redirect("reporting:report_subscription_list")


@require_POST
@permission_required("reporting.change_reportsubscription")
def run_retry(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ReportRun, pk=pk)
    try:
        subscriptions.retry_run(run_id=pk, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The run is being retried."))
    return redirect("reporting:report_subscription_detail", run.subscription_id)


def _file_response(run: ReportRun) -> FileResponse:
    if not run.file_path or not default_storage.exists(run.file_path):
        raise Http404(_("The file of this run is no longer stored."))
    response = FileResponse(default_storage.open(run.file_path, "rb"), as_attachment=True,
                            filename=run.file_path.rsplit("/", 1)[-1],
                            content_type=builders.MIMETYPES.get(run.subscription.format))
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@permission_required("reporting.view_reportsubscription")
def run_file(request: HttpRequest, pk: int) -> FileResponse:
    return _file_response(get_object_or_404(ReportRun.objects.select_related("subscription"),
                                            pk=pk))


@require_GET
@permission_required("reporting.view_reportsubscription")
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """A run's status cell (htmx partial), with the rows written so far while
    it is being built; polled until the run is done."""
    run = get_object_or_404(ReportRun, pk=pk)
    return render(request, "reporting/_run_progress.html", {
        "run": run, "job": Progress(subscriptions.run_progress_key(run.pk)).state()})


@require_GET
@public
def run_download(request: HttpRequest, token: str) -> HttpResponse | FileResponse:
    """The signed link of a report too large to attach. Public on purpose
    (recipients may be plain addresses without an account): the signature is
    the credential, valid REPORT_LINK_MAX_AGE_DAYS; expired -> 410."""
    try:
        run = subscriptions.run_for_token(token)
    except signing.SignatureExpired:
        return render(request, "reporting/run_link_expired.html", status=410)
    except (signing.BadSignature, ReportRun.DoesNotExist, KeyError, TypeError):
        raise Http404(_("This download link is not valid.")) from None
    return _file_response(run)
