"""A report "send now" while the broker refuses every publish is sent, once,
after the broker is back (real Redis, a real Celery worker in a thread; the
helpers of tests/oms/test_outbox.py)."""

from __future__ import annotations

import time as clock
from datetime import time

import pytest
from django.core import mail

from oms.lib import outbox
from oms.models import OutboxMessage
from oms.tasks import relay_outbox
from reporting import subscriptions
from reporting.models import ReportRun, RunStatus
from tests.oms.test_outbox import (  # noqa: F401  real_broker is a fixture
    TEST_QUEUE,
    UNREACHABLE_BROKER,
    _route_tasks,
    celery_broker,
    real_broker,
    running_worker,
    wait_for,
)


def _report_mails() -> list:
    return [m for m in mail.outbox if m.subject.startswith("Daily sales:")]


@pytest.mark.django_db(transaction=True)
def test_send_now_with_the_broker_down_is_sent_once_the_broker_is_back(
        real_broker, make_user, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    manager = make_user("Manager", username="maria")
    subscription = subscriptions.create_subscription(data=subscriptions.SubscriptionData(
        name="Daily sales", report="sales_summary", period="yesterday", format="csv",
        schedule="daily", send_time=time(7, 0), timezone="Europe/Paris", language="en",
        recipient_ids=[manager.pk]), actor=manager)
    # The report build is a task of its own: on this run's queue too, for the worker.
    _route_tasks({"oms.tasks.*": {"queue": TEST_QUEUE},
                  "reporting.tasks.*": {"queue": TEST_QUEUE}})

    with celery_broker(UNREACHABLE_BROKER):
        run = subscriptions.request_run(subscription_id=subscription.pk, actor=manager)
        assert outbox.relay() == 0  # still down: nothing goes anywhere
    request = OutboxMessage.objects.get(handler=subscriptions.QUEUE_RUN_HANDLER)
    assert (request.status, request.dispatched_at) == (OutboxMessage.Status.PENDING, None)
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING
    assert _report_mails() == []

    with running_worker():
        relay_outbox.delay()  # what beat does every few seconds
        assert wait_for(lambda: len(_report_mails()) == 1, timeout=60)
        # Late duplicates of every row change nothing.
        for message_id in OutboxMessage.objects.values_list("pk", flat=True):
            outbox.dispatch(message_id)
        outbox.relay()
        assert wait_for(lambda: real_broker.llen(TEST_QUEUE) == 0)
        clock.sleep(2)

    (message,) = _report_mails()
    assert message.bcc == [manager.email]
    run.refresh_from_db()
    assert (run.status, run.attempts, run.manual) == (RunStatus.SENT, 1, True)
    assert ReportRun.objects.count() == 1
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {
        OutboxMessage.Status.DONE}
