"""Back-office pages of scheduled reports: Managers create, see, preview,
send and retry; field errors shown on the form; other roles refused."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from reporting import subscriptions
from reporting.models import ReportRun, ReportSubscription, RunStatus

pytestmark = pytest.mark.django_db


def _post(**overrides) -> dict:
    data = {"name": "Daily sales", "report": "sales_summary", "period": "yesterday",
            "format": "csv", "schedule": "daily", "send_time": "07:00",
            "timezone": "Europe/Paris", "language": "en", "extra_emails": "cfo@example.com",
            "is_active": "on"}
    data.update(overrides)
    return data


@pytest.fixture
def subscription(make_user):
    owner = make_user("Manager", username="owner")
    return subscriptions.create_subscription(data=subscriptions.SubscriptionData(
        name="Daily sales", report="sales_summary", period="yesterday", format="csv",
        schedule="daily", send_time=time(7, 0), timezone="Europe/Paris", language="en",
        recipient_ids=[owner.pk]), actor=owner)


def test_a_manager_creates_a_subscription_with_a_beat_task(client_for):
    client = client_for("Manager")
    response = client.post("/reports/subscriptions/new/",
                           _post(recipients=[client.user.pk]))
    subscription = ReportSubscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reports/subscriptions/{subscription.pk}/"
    assert subscription.owner == client.user
    assert list(subscription.recipients.all()) == [client.user]
    assert subscription.extra_emails == ["cfo@example.com"]
    assert subscription.periodic_task.enabled


def test_bad_recipients_are_shown_as_field_errors(client_for, make_user):
    client = client_for("Manager")
    clerk = make_user("Sales", username="sam")
    response = client.post("/reports/subscriptions/new/", _post(
        extra_emails="cfo@example.com, nope", recipients=[clerk.pk]))
    assert response.status_code == 400
    form = response.context["form"]
    assert "nope" in form.errors["extra_emails"][0]
    assert "recipients" in form.errors
    assert ReportSubscription.objects.count() == 0


def test_a_weekly_schedule_without_its_day_is_refused(client_for):
    response = client_for("Manager").post("/reports/subscriptions/new/",
                                          _post(schedule="weekly"))
    assert response.status_code == 400
    assert "weekday" in response.context["form"].errors


def test_list_detail_and_preview_show_the_report(client_for, subscription):
    client = client_for("Manager")
    assert "Daily sales" in client.get("/reports/subscriptions/").content.decode()
    detail = client.get(f"/reports/subscriptions/{subscription.pk}/").content.decode()
    assert "Send now" in detail and "Preview" in detail
    preview = client.get(f"/reports/subscriptions/{subscription.pk}/preview/",
                         headers={"HX-Request": "true"})
    assert preview.status_code == 200
    assert "No rows for this period." in preview.content.decode()
    assert "<html" not in preview.content.decode()  # the partial only


def test_edit_form_shows_the_current_values_and_saves(client_for, subscription):
    client = client_for("Manager")
    page = client.get(f"/reports/subscriptions/{subscription.pk}/edit/")
    assert page.context["form"].initial["name"] == "Daily sales"
    response = client.post(f"/reports/subscriptions/{subscription.pk}/edit/",
                           _post(name="Sales, daily", recipients=[subscription.owner_id]))
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.name == "Sales, daily"


def test_send_now_records_a_run(client_for, subscription, mailoutbox,
                                django_capture_on_commit_callbacks):
    client = client_for("Manager")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reports/subscriptions/{subscription.pk}/send/")
    assert response.status_code == 302
    run = ReportRun.objects.get(subscription=subscription)
    assert run.manual and run.status == RunStatus.SENT
    assert len(mailoutbox) == 1
    file_response = client.get(f"/reports/runs/{run.pk}/file/")
    assert file_response.status_code == 200


def test_retry_only_for_a_failed_run(client_for, subscription, mailoutbox,
                                     django_capture_on_commit_callbacks):
    client = client_for("Manager")
    slot = datetime(2026, 3, 10, 7, 0, tzinfo=ZoneInfo("Europe/Paris"))
    run = ReportRun.objects.create(subscription=subscription, scheduled_for=slot,
                                   period_start=slot, period_end=slot,
                                   status=RunStatus.FAILED, error="boom", attempts=4)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/reports/runs/{run.pk}/retry/")
    run.refresh_from_db()
    assert run.status == RunStatus.SENT and len(mailoutbox) == 1
    response = client.post(f"/reports/runs/{run.pk}/retry/", follow=True)
    assert "Only a failed run can be retried." in response.content.decode()
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("role", ["Sales", "Warehouse", "Customer service"])
def test_other_roles_may_not_open_or_send(client_for, subscription, role):
    client = client_for(role)
    assert client.get("/reports/subscriptions/").status_code == 403
    assert client.post(f"/reports/subscriptions/{subscription.pk}/send/").status_code == 403
    assert not ReportRun.objects.exists()


def test_a_manager_deletes_their_own_subscription_but_not_another_managers(client, subscription,
                                                                           make_user):
    url = reverse("reporting:report_subscription_delete", args=[subscription.pk])
    client.force_login(make_user("Manager", username="other"))
    refused = client.post(url, follow=True)
    assert "Only the owner of this subscription can delete it." in refused.content.decode()
    assert url.encode() not in client.get(
        reverse("reporting:report_subscription_detail", args=[subscription.pk])).content
    assert ReportSubscription.objects.filter(pk=subscription.pk).exists()

    client.force_login(subscription.owner)
    detail = client.get(reverse("reporting:report_subscription_detail", args=[subscription.pk]))
    assert url.encode() in detail.content
    response = client.post(url)
    assert response.status_code == 302
    assert not ReportSubscription.objects.filter(pk=subscription.pk).exists()
