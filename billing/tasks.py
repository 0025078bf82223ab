"""Thin Celery tasks of billing."""

from celery import shared_task

from billing import services


# Every few minutes (CELERY_BEAT_SCHEDULE). Safe to overlap: voiding is
# idempotent per payment and locks the payment row.
@shared_task(ignore_result=True)
def void_payments_of_closed_orders() -> int:
    return services.void_payments_of_closed_orders()


# Daily (CELERY_BEAT_SCHEDULE). Safe to run twice: one reminder per invoice
# and level (unique Reminder row and outbox dedup key).
@shared_task(ignore_result=True)
def send_overdue_reminders() -> int:
    return services.send_overdue_reminders()
