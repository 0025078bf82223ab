"""Thin Celery tasks of the project: the outbox runner and its relay."""

from celery import shared_task

from oms.lib import outbox


# Safe with acks_late: the runner claims its row, so a redelivery is a no-op.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_outbox_message(message_id: int) -> bool:
    return outbox.run_message(message_id)


@shared_task(ignore_result=True)
def relay_outbox() -> int:
    return outbox.relay()
