"""Subscription services: bad subscriptions are refused with field errors,
the beat task follows the subscription, recipients must stay Managers."""

from __future__ import annotations

from datetime import time

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from oms.lib.errors import ApplicationError
from reporting import subscriptions
from reporting.models import ReportRun, ReportSubscription, RunStatus

pytestmark = pytest.mark.django_db


def _data(**overrides) -> subscriptions.SubscriptionData:
    return subscriptions.SubscriptionData(**{
        "name": "Weekly cycle", "report": "order_to_cash", "period": "last_7_days",
        "format": "pdf", "schedule": "weekly", "weekday": 0, "send_time": time(8, 0),
        "timezone": "Europe/Paris", "language": "fr", "recipient_ids": [],
        "extra_emails": ["ops@example.com"], **overrides})


@pytest.fixture
def manager(make_user):
    return make_user("Manager", username="maria")


def _refusal(**overrides) -> dict:
    with pytest.raises(ApplicationError) as caught:
        subscriptions.create_subscription(data=_data(**overrides),
                                          actor=ReportSubscription._meta.get_field(
                                              "owner").related_model.objects.first())
    return caught.value.field_errors


def test_invalid_addresses_are_refused_with_a_field_error(manager):
    errors = _refusal(extra_emails=["ops@example.com", "not-an-address", "a@b"])
    assert "not-an-address" in errors["extra_emails"][0]
    assert ReportSubscription.objects.count() == 0


def test_a_user_who_is_not_a_manager_or_admin_is_refused(manager, make_user):
    clerk = make_user("Sales", username="sam")
    errors = _refusal(recipient_ids=[manager.pk, clerk.pk])
    assert "Managers and Admins" in errors["recipients"][0]


def test_no_recipient_at_all_is_refused(manager):
    assert "recipients" in _refusal(extra_emails=[])


def test_unknown_report_channel_group_and_missing_day_are_refused(manager):
    assert "report" in _refusal(report="everything")
    assert "channel" in _refusal(filters={"channel": "fax"})
    assert "customer_group" in _refusal(filters={"customer_group": "vip"})
    assert "warehouse" in _refusal(filters={"warehouse": 999999})
    assert "weekday" in _refusal(weekday=None)
    assert "day_of_month" in _refusal(schedule="monthly", day_of_month=31)
    assert "timezone" in _refusal(timezone="Mars/Olympus")


def test_a_filter_the_report_cannot_apply_is_refused(manager):
    errors = _refusal(report="receivables_aging", filters={"channel": "web"})
    assert "cannot be filtered" in errors["channel"][0]


def test_update_moves_the_beat_schedule_and_deactivation_disables_it(manager):
    subscription = subscriptions.create_subscription(
        data=_data(recipient_ids=[manager.pk]), actor=manager)
    subscriptions.update_subscription(
        subscription_id=subscription.pk,
        data=_data(recipient_ids=[manager.pk], schedule="monthly", day_of_month=3,
                   weekday=None, send_time=time(9, 15), timezone="Europe/London",
                   is_active=False),
        actor=manager)
    subscription.refresh_from_db()
    task = subscription.periodic_task
    assert (task.crontab.day_of_month, task.crontab.hour, task.crontab.minute) == ("3", "9", "15")
    assert task.crontab.day_of_week == "*"
    assert str(task.crontab.timezone) == "Europe/London"
    assert task.enabled is False
    assert PeriodicTask.objects.filter(name__startswith="report-subscription-").count() == 1


def test_delete_removes_the_beat_task(manager):
    subscription = subscriptions.create_subscription(
        data=_data(recipient_ids=[manager.pk]), actor=manager)
    task_id = subscription.periodic_task_id
    subscriptions.delete_subscription(subscription_id=subscription.pk, actor=manager)
    assert not PeriodicTask.objects.filter(pk=task_id).exists()


def test_delete_removes_the_files_of_its_runs_after_commit(
        manager, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    subscription = subscriptions.create_subscription(
        data=_data(recipient_ids=[manager.pk]), actor=manager)
    path = default_storage.save("reports/old-run.csv", ContentFile(b"a,b\n"))
    ReportRun.objects.create(subscription=subscription, scheduled_for=timezone.now(),
                             period_start=timezone.now(), period_end=timezone.now(),
                             status=RunStatus.SENT, file_path=path)
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions.delete_subscription(subscription_id=subscription.pk, actor=manager)
        assert default_storage.exists(path)  # not before the commit
    assert not default_storage.exists(path)


def test_a_user_removed_from_manager_leaves_the_recipients(manager, make_user):
    other = make_user("Manager", username="mo")
    subscription = subscriptions.create_subscription(
        data=_data(recipient_ids=[manager.pk, other.pk]), actor=manager)

    manager.groups.remove(Group.objects.get(name="Manager"))
    assert list(subscription.recipients.all()) == [other]

    Group.objects.get(name="Manager").user_set.remove(other)  # from the group's side
    assert list(subscription.recipients.all()) == []


def test_a_manager_who_stays_admin_keeps_receiving(manager):
    manager.groups.add(Group.objects.get(name="Admin"))
    subscription = subscriptions.create_subscription(
        data=_data(recipient_ids=[manager.pk]), actor=manager)
    manager.groups.remove(Group.objects.get(name="Manager"))
    assert list(subscription.recipients.all()) == [manager]


def test_a_deactivated_user_gets_no_report_at_run_time(manager, make_user):
    other = make_user("Manager", username="mo")
    subscription = subscriptions.create_subscription(
        data=_data(recipient_ids=[manager.pk, other.pk]), actor=manager)
    other.is_active = False
    other.save()
    assert subscriptions.recipients_of(subscription) == ["maria@oms.example",
                                                          "ops@example.com"]
