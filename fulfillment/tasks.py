"""Thin Celery tasks of the fulfillment app."""

from celery import shared_task

from fulfillment import lateness


# Hourly (CELERY_BEAT_SCHEDULE): the outbox dedup key makes a repeat queue
# nothing for a date the customer was already told.
@shared_task(ignore_result=True)
def notify_late_orders() -> int:
    return lateness.notify_late_orders()
