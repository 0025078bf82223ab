"""Work a report run hands to the outbox, done after its transaction commits:
queueing the build, e-mailing the report, deleting files; and the signed
download link of a report too large to attach."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr

from celery import current_app
from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from oms.lib import outbox
from reporting import reports
from reporting.models import ReportRun, RunStatus
from reporting.reports import builders

LINK_SALT = "reporting.run-download"
QUEUE_RUN_HANDLER = "reporting.queue_run"
SEND_REPORT_HANDLER = "reporting.send_report"
DELETE_FILES_HANDLER = "reporting.delete_files"
# The report worker's task, published by name (reporting.tasks imports this package).
TASK_NAME = "reporting.tasks.run_subscription"


@outbox.handler(QUEUE_RUN_HANDLER)
def queue_run(payload: dict) -> None:
    """A run asked for by hand ("send now", "retry") goes to the report worker:
    its own task, because a build may take minutes and retries on its own
    backoff. A publish the broker refuses fails this row; the outbox tries
    it again later."""
    current_app.signature(TASK_NAME).apply_async(
        kwargs={"subscription_id": payload["subscription_id"],
                "scheduled_for_iso": payload["slot"]})


@outbox.handler(DELETE_FILES_HANDLER)
def delete_files(payload: dict) -> None:
    """Files of runs that are gone or skipped (deleting a missing one is no error)."""
    for path in payload["paths"]:
        default_storage.delete(path)


def download_token(run: ReportRun) -> str:
    return signing.dumps({"run": run.pk}, salt=LINK_SALT)


def run_for_token(token: str) -> ReportRun:
    """Raises signing.SignatureExpired / BadSignature / ReportRun.DoesNotExist."""
    data = signing.loads(token, salt=LINK_SALT,
                         max_age=timedelta(days=settings.REPORT_LINK_MAX_AGE_DAYS))
    return ReportRun.objects.select_related("subscription").get(
        pk=data["run"], status=RunStatus.SENT)


def _message_id(outbox_message_id: int) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].partition("@")[2] or "oms.localhost"
    return f"<outbox-{outbox_message_id}@{domain}>"


@outbox.handler(SEND_REPORT_HANDLER)
def send_report(payload: dict) -> None:
    """The report e-mail: headline figures in the body, the file attached, or
    a signed link valid REPORT_LINK_MAX_AGE_DAYS when the file is larger than
    REPORT_ATTACHMENT_MAX_BYTES. One message for all recipients (Bcc), so a
    recipient list is not disclosed to plain addresses."""
    run = ReportRun.objects.select_related("subscription").filter(pk=payload["run_id"]).first()
    if run is None or not run.file_path:  # subscription deleted since: nothing to send
        return
    subscription = run.subscription
    report = reports.get(subscription.report)
    link = None
    if run.delivered_as == "link":
        link = settings.SITE_URL.rstrip("/") + reverse(
            "reporting:report_run_download", args=[download_token(run)])
    with translation.override(subscription.language):
        context = {"subscription": subscription, "run": run, "report": report,
                   "headline": run.headline, "link": link,
                   "period_last_day": run.period_last_day,
                   "link_days": settings.REPORT_LINK_MAX_AGE_DAYS}
        subject = _("%(name)s: %(report)s, %(start)s to %(end)s") % {
            "name": subscription.name, "report": report.label,
            "start": run.period_first_day, "end": run.period_last_day}
        text = render_to_string("emails/reporting/report.txt", context)
        html = render_to_string("emails/reporting/report.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[settings.DEFAULT_FROM_EMAIL], bcc=run.recipients,
        headers={"Message-ID": _message_id(payload["outbox_message_id"])})
    message.attach_alternative(html, "text/html")
    if link is None:
        with default_storage.open(run.file_path, "rb") as handle:
            message.attach(run.file_path.rsplit("/", 1)[-1], handle.read(),
                           builders.MIMETYPES[subscription.format])
    message.send()
