"""The Celery app's production defaults."""

from django.conf import settings

from oms.celery import app
from oms.tasks import relay_outbox, run_outbox_message, run_outbox_messages


def test_acks_late_only_for_the_idempotent_outbox_runner():
    assert app.conf.task_acks_late is False
    for runner in (run_outbox_messages, run_outbox_message):
        assert runner.acks_late is True
        assert runner.reject_on_worker_lost is True
    assert relay_outbox.acks_late is False


def test_publishing_gives_up_quickly_when_the_broker_is_away():
    assert app.conf.broker_connection_timeout <= 5
    assert app.conf.broker_transport_options["socket_connect_timeout"] <= 5
    assert app.conf.broker_transport_options["socket_timeout"] <= 10
    assert app.conf.task_publish_retry_policy["max_retries"] <= 2
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_tasks_have_time_limits_and_the_relay_is_scheduled():
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    relay = settings.CELERY_BEAT_SCHEDULE["outbox-relay"]
    assert relay["task"] == relay_outbox.name == "oms.tasks.relay_outbox"
    assert relay["schedule"] == settings.OUTBOX_RELAY_SECONDS
