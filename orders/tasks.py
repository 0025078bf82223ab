"""Thin Celery tasks of the orders app."""

from celery import shared_task

from orders import services


# Every minute (CELERY_BEAT_SCHEDULE). Safe to overlap: the sweep locks the
# rows it changes, so a second run finds nothing left to expire.
@shared_task(ignore_result=True)
def expire_reservations() -> int:
    return services.expire_orders()


# Every few minutes: backordered orders whose stock has arrived become reserved.
@shared_task(ignore_result=True)
def allocate_backorders() -> int:
    return services.allocate_backorders()


# Every quarter hour: one reminder per prepayment near its deadline, one
# managers' alert per review waiting too long. Safe to overlap: each claims
# its orders (a sent-at column) in the transaction that queues the e-mail.
@shared_task(ignore_result=True)
def send_hold_reminders() -> int:
    return services.send_prepayment_reminders() + services.alert_managers_of_long_reviews()
