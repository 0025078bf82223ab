"""Report runs: beat fires a daily subscription under a frozen clock, one
e-mail with the right period and file; the same slot again sends nothing;
large files go as a signed link that expires; a failing run retries with
backoff and sends once."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery import current_app
from django.core.files.storage import default_storage
from django.urls import reverse

from oms.lib.progress import Progress
from oms.models import OutboxMessage
from reporting import reports, subscriptions, tasks
from reporting.models import ReportRun, RunStatus
from reporting.reports import builders
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ProductFactory, make_order

pytestmark = pytest.mark.django_db


PARIS = ZoneInfo("Europe/Paris")
YESTERDAY = datetime(2026, 3, 9, 15, 0, tzinfo=PARIS)
SLOT = datetime(2026, 3, 10, 7, 0, tzinfo=PARIS)


@pytest.fixture
def product():
    item = ProductFactory(sku="MUG", unit_price=Decimal("10.00"), tax_rate=Decimal("20.00"))
    stock(item, WarehouseFactory(code="MAIN"), 10_000)
    return item


@pytest.fixture
def manager(make_user):
    return make_user("Manager", username="maria")


def _subscribe(manager, **overrides):
    data = subscriptions.SubscriptionData(**{
        "name": "Daily sales", "report": "sales_summary", "period": "yesterday",
        "format": "csv", "schedule": "daily", "send_time": time(7, 0),
        "timezone": "Europe/Paris", "language": "en", "recipient_ids": [manager.pk],
        "extra_emails": ["cfo@example.com"], **overrides})
    return subscriptions.create_subscription(data=data, actor=manager)


def _beat_fires(subscription, django_capture_on_commit_callbacks):
    """What django-celery-beat does when the crontab is due: apply the
    PeriodicTask's task with its kwargs (Celery runs eagerly in tests)."""
    periodic = subscription.periodic_task
    periodic.refresh_from_db()
    schedule = periodic.crontab.schedule
    due, _next = schedule.is_due(SLOT - timedelta(days=1))
    assert due
    with django_capture_on_commit_callbacks(execute=True):
        current_app.tasks[periodic.task].apply_async(kwargs=json.loads(periodic.kwargs))


def test_subscription_is_stored_as_a_crontab_in_its_time_zone(manager):
    subscription = _subscribe(manager, schedule="weekly", weekday=0, send_time=time(6, 30),
                              timezone="America/New_York")
    crontab = subscription.periodic_task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("30", "6", "1")
    assert str(crontab.timezone) == "America/New_York"
    assert subscription.periodic_task.task == "reporting.tasks.run_subscription"
    assert json.loads(subscription.periodic_task.kwargs) == {"subscription_id": subscription.pk}


def test_daily_run_by_beat_sends_one_email_with_yesterdays_figures_and_the_file(
        manager, product, mailoutbox, django_capture_on_commit_callbacks):
    with time_machine.travel(YESTERDAY, tick=False):
        make_order(lines=[(product, 2)], channel="web")
        make_order(lines=[(product, 1)], channel="phone")
    with time_machine.travel(SLOT - timedelta(days=3), tick=False):
        make_order(lines=[(product, 50)])  # older: outside "yesterday"
    subscription = _subscribe(manager)

    with time_machine.travel(SLOT + timedelta(seconds=20), tick=False):
        _beat_fires(subscription, django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    # Bcc: plain addresses do not see who else receives the report
    assert sorted(message.bcc) == ["cfo@example.com", "maria@oms.example"]
    assert "2026-03-09 to 2026-03-09" in message.subject
    assert "30.00 EUR" in message.body  # net of the two orders of yesterday
    assert "36.00 EUR" in message.body
    (filename, content, mimetype), = message.attachments
    assert filename.endswith(".csv") and mimetype == "text/csv"
    content = content.encode("utf-8")  # Django hands text attachments over decoded
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == 3  # header + web + phone
    html = message.alternatives[0][0]
    assert "36.00 EUR" in html

    run = ReportRun.objects.get(subscription=subscription)
    assert run.status == RunStatus.SENT
    assert run.scheduled_for == SLOT
    assert run.period_start == datetime(2026, 3, 9, tzinfo=PARIS)
    assert run.period_end == datetime(2026, 3, 10, tzinfo=PARIS)
    assert (run.rows, run.delivered_as, run.attempts) == (2, "attachment", 1)
    assert run.size == len(content)
    assert run.recipients == ["cfo@example.com", "maria@oms.example"]


def test_the_run_history_shows_the_run(manager, product, client,
                                       django_capture_on_commit_callbacks):
    subscription = _subscribe(manager)
    with time_machine.travel(SLOT + timedelta(seconds=5), tick=False):
        _beat_fires(subscription, django_capture_on_commit_callbacks)
    client.force_login(manager)
    page = client.get(f"/reports/subscriptions/{subscription.pk}/").content.decode()
    assert "Run history" in page
    assert "Sent" in page
    assert "cfo@example.com, maria@oms.example" in page


def test_running_the_same_slot_again_sends_nothing_more(
        manager, product, mailoutbox, django_capture_on_commit_callbacks):
    subscription = _subscribe(manager)
    with time_machine.travel(SLOT + timedelta(seconds=5), tick=False):
        _beat_fires(subscription, django_capture_on_commit_callbacks)
    with time_machine.travel(SLOT + timedelta(minutes=2), tick=False):
        _beat_fires(subscription, django_capture_on_commit_callbacks)  # a second tick
        with django_capture_on_commit_callbacks(execute=True):
            tasks.run_subscription.delay(subscription_id=subscription.pk,
                                         scheduled_for_iso=SLOT.isoformat())
    assert len(mailoutbox) == 1
    assert ReportRun.objects.filter(subscription=subscription).count() == 1
    assert OutboxMessage.objects.filter(handler="reporting.send_report").count() == 1


def test_empty_period_is_skipped_when_send_only_if_data(
        manager, product, mailoutbox, django_capture_on_commit_callbacks):
    subscription = _subscribe(manager, send_only_if_data=True)
    with time_machine.travel(SLOT + timedelta(seconds=5), tick=False):
        _beat_fires(subscription, django_capture_on_commit_callbacks)
    assert mailoutbox == []
    run = ReportRun.objects.get(subscription=subscription)
    assert (run.status, run.rows, run.file_path) == (RunStatus.SKIPPED, 0, "")


def test_a_report_larger_than_the_attachment_limit_arrives_as_a_link_that_expires(
        manager, product, mailoutbox, client, settings, django_capture_on_commit_callbacks):
    settings.REPORT_ATTACHMENT_MAX_BYTES = 300
    settings.REPORT_LINK_MAX_AGE_DAYS = 7
    with time_machine.travel(YESTERDAY, tick=False):
        for _ in range(12):
            make_order(lines=[(product, 1)], channel="web")
            make_order(lines=[(product, 1)], channel="phone")
    # 2 channels x 1 product, but one row per day/channel/product: use the
    # order-to-cash report (one row per order) for a file with many rows.
    subscription = _subscribe(manager, report="order_to_cash")
    with time_machine.travel(SLOT + timedelta(seconds=5), tick=False):
        _beat_fires(subscription, django_capture_on_commit_callbacks)

    message, = mailoutbox
    assert message.attachments == []
    link = re.search(r"http://\S+/reports/runs/download/\S+/", message.body).group(0)
    run = ReportRun.objects.get(subscription=subscription)
    assert run.delivered_as == "link" and run.size > 300 and run.rows == 24

    path = link.split("localhost:8000", 1)[1]
    with time_machine.travel(SLOT + timedelta(days=6), tick=False):
        response = client.get(path)  # no login: recipients may have no account
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 25  # header + every order: the complete file
    with default_storage.open(run.file_path, "rb") as handle:
        assert handle.read() == body

    with time_machine.travel(SLOT + timedelta(days=7, minutes=1), tick=False):
        expired = client.get(path)
    assert expired.status_code == 410
    assert b"expired" in expired.content
    assert client.get(path[:-3] + "xx/").status_code == 404


def test_a_failed_run_retries_with_backoff_and_sends_once(
        manager, product, mailoutbox, django_capture_on_commit_callbacks):
    subscription = _subscribe(manager)
    real_build = builders.build_file
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return real_build(**kwargs)

    with (mock.patch.object(builders, "build_file", side_effect=flaky),
          mock.patch.object(tasks, "backoff_seconds", wraps=tasks.backoff_seconds) as backoff,
          time_machine.travel(SLOT + timedelta(seconds=5), tick=False)):
        _beat_fires(subscription, django_capture_on_commit_callbacks)

    backoff.assert_called_once_with(0)
    assert len(calls) == 2
    assert len(mailoutbox) == 1
    run = ReportRun.objects.get(subscription=subscription)
    assert (run.status, run.attempts, run.error) == (RunStatus.SENT, 2, "")


def test_a_run_that_keeps_failing_stays_failed_and_a_manual_retry_sends_it(
        manager, product, mailoutbox, settings, django_capture_on_commit_callbacks):
    settings.REPORT_RUN_MAX_ATTEMPTS = 2
    subscription = _subscribe(manager)
    with (mock.patch.object(builders, "build_file", side_effect=OSError("disk full")),
          time_machine.travel(SLOT + timedelta(seconds=5), tick=False)):
        _beat_fires(subscription, django_capture_on_commit_callbacks)
    run = ReportRun.objects.get(subscription=subscription)
    assert (run.status, run.attempts) == (RunStatus.FAILED, 2)
    assert "disk full" in run.error
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        subscriptions.retry_run(run_id=run.pk, actor=manager)
    run.refresh_from_db()
    assert run.status == RunStatus.SENT
    assert len(mailoutbox) == 1


def test_backoff_doubles_and_is_capped():
    assert [tasks.backoff_seconds(n) for n in range(4)] == [60, 120, 240, 480]
    assert tasks.backoff_seconds(20) == 3600


def test_send_now_builds_a_manual_run_for_this_moment(
        manager, product, mailoutbox, django_capture_on_commit_callbacks):
    subscription = _subscribe(manager, period="month_to_date", format="xlsx")
    with time_machine.travel(datetime(2026, 3, 10, 12, 20, tzinfo=PARIS), tick=False):
        make_order(lines=[(product, 3)])
    with (time_machine.travel(datetime(2026, 3, 10, 12, 30, tzinfo=PARIS), tick=False),
          django_capture_on_commit_callbacks(execute=True)):
        run = subscriptions.request_run(subscription_id=subscription.pk, actor=manager)
    run.refresh_from_db()
    assert run.manual and run.status == RunStatus.SENT and run.rows == 1
    assert run.period_start == datetime(2026, 3, 1, tzinfo=PARIS)
    assert mailoutbox[0].attachments[0][0].endswith(".xlsx")


@pytest.mark.parametrize(("schedule", "extra", "now", "slot"), [
    ("weekdays", {}, datetime(2026, 3, 9, 8, 0), datetime(2026, 3, 9, 7, 0)),  # Monday
    ("weekdays", {}, datetime(2026, 3, 8, 8, 0), datetime(2026, 3, 6, 7, 0)),  # Sunday->Fri
    ("weekly", {"weekday": 2}, datetime(2026, 3, 10, 8, 0), datetime(2026, 3, 4, 7, 0)),
    ("monthly", {"day_of_month": 5}, datetime(2026, 3, 5, 7, 0), datetime(2026, 3, 5, 7, 0)),
    ("daily", {}, datetime(2026, 3, 10, 6, 59), datetime(2026, 3, 9, 7, 0)),
])
def test_latest_slot_follows_the_schedule(manager, schedule, extra, now, slot):
    subscription = _subscribe(manager, schedule=schedule, **extra)
    assert subscriptions.latest_slot(subscription, now=now.replace(tzinfo=PARIS)) == \
        slot.replace(tzinfo=PARIS)


@pytest.mark.parametrize(("period", "start", "end"), [
    ("yesterday", datetime(2026, 3, 9), datetime(2026, 3, 10)),
    ("last_7_days", datetime(2026, 3, 3), datetime(2026, 3, 10)),
    ("month_to_date", datetime(2026, 3, 1), datetime(2026, 3, 10, 7, 0)),
    ("last_month", datetime(2026, 2, 1), datetime(2026, 3, 1)),
])
def test_period_is_relative_to_the_slot(period, start, end):
    assert subscriptions.period_bounds(period, SLOT, "Europe/Paris") == (
        start.replace(tzinfo=PARIS), end.replace(tzinfo=PARIS))


def test_files_of_old_runs_are_purged_and_their_history_stays(
        manager, product, settings, django_capture_on_commit_callbacks):
    settings.REPORT_FILE_RETENTION_DAYS = 30
    subscription = _subscribe(manager)
    with time_machine.travel(SLOT + timedelta(seconds=5), tick=False):
        _beat_fires(subscription, django_capture_on_commit_callbacks)
    run = ReportRun.objects.get(subscription=subscription)
    path = run.file_path
    assert default_storage.exists(path)

    assert subscriptions.purge_old_files(now=SLOT + timedelta(days=29)) == 0
    assert subscriptions.purge_old_files(now=SLOT + timedelta(days=31)) == 1
    run.refresh_from_db()
    assert run.file_path == "" and run.status == RunStatus.SENT
    assert not default_storage.exists(path)


def test_a_run_being_built_shows_its_rows_written_until_it_is_done(
        manager, product, client, django_capture_on_commit_callbacks):
    subscription = _subscribe(manager)
    with django_capture_on_commit_callbacks(execute=False) as waiting:  # no worker yet
        run = subscriptions.request_run(subscription_id=subscription.pk, actor=manager)
    Progress.start(user_id=None, label="", key=subscriptions.run_progress_key(run.pk)).advance(
        1500, total=0)
    client.force_login(manager)
    progress_url = reverse("reporting:report_run_progress", args=[run.pk])

    page = client.get(f"/reports/subscriptions/{subscription.pk}/").content.decode()
    cell = client.get(progress_url).content.decode()

    assert f'hx-get="{progress_url}"' in page and "<progress" in page  # polls from the page
    assert "1,500 rows written" in cell and 'hx-trigger="every 2s"' in cell
    with django_capture_on_commit_callbacks(execute=True):
        for callback in waiting:  # the worker picks the run up
            callback()
    run.refresh_from_db()
    done = client.get(progress_url).content.decode()
    assert run.status == RunStatus.SENT
    assert "Sent" in done and "hx-trigger" not in done and "<progress" not in done


def test_building_a_file_counts_the_rows_it_writes(manager, product):
    with time_machine.travel(YESTERDAY, tick=False):
        for _ in range(3):
            make_order(lines=[(product, 1)], channel="web")
    report = reports.get("sales_summary")
    params = reports.ReportParams(start=YESTERDAY - timedelta(hours=15),
                                  end=YESTERDAY + timedelta(hours=9), timezone="Europe/Paris")
    progress = Progress.start(user_id=None, label="", key="report-run-test")

    built = builders.build_file(report=report, params=params, fmt="csv", basename="t",
                                context={}, chunk_size=1, progress=progress)
    progress.advance(0, total=0)  # flush what is below the write step

    assert built.rows == 1 and progress.state().done == 1  # one row: web, MUG, that day


def test_only_readers_of_subscriptions_see_a_runs_progress(manager, client_for,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = subscriptions.request_run(subscription_id=_subscribe(manager).pk, actor=manager)
    assert client_for("Warehouse").get(
        reverse("reporting:report_run_progress", args=[run.pk])).status_code == 403
