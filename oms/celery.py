"""The Celery app.

Defaults lean to safety: acks_late is off globally and switched on per task
only where the task is idempotent (the outbox runner claims its row, so it
is). Publishing never blocks a web request for long when Redis is down: the
connection and publish retries are bounded and the outbox relay re-sends
whatever the broker missed.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=False,
    task_reject_on_worker_lost=False,
    worker_prefetch_multiplier=1,
    # A task cut off by a lost broker connection is redelivered rather than
    # finished unacknowledged; only acks_late tasks (idempotent) are affected.
    worker_cancel_long_running_tasks_on_connection_loss=True,
    task_time_limit=300,
    task_soft_time_limit=240,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    timezone=os.environ.get("TIME_ZONE", "Europe/Paris"),
    broker_connection_timeout=2,
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 1,
    },
    # A publish that cannot reach the broker fails fast; the outbox keeps the row.
    task_publish_retry=True,
    task_publish_retry_policy={
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    },
)
app.autodiscover_tasks()
