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
