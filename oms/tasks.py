"""Thin Celery tasks of the project: the outbox runner, its relay, housekeeping,
the staff notice digest."""

from celery import shared_task

from oms.lib import notices, outbox, retention


# Safe with acks_late: the runner claims each row, so a redelivery of the
# chunk skips the rows already done.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_outbox_messages(message_ids: list[int]) -> int:
    return outbox.run_messages(message_ids)


# The one-row form of earlier releases: kept so that messages still queued
# when a release goes out are run, not rejected as unknown tasks.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_outbox_message(message_id: int) -> bool:
    return outbox.run_message(message_id)


@shared_task(ignore_result=True)
def relay_outbox() -> int:
    return outbox.relay()


@shared_task(ignore_result=True)
def purge_old_records() -> dict[str, int]:
    return retention.purge_old_records()


@shared_task(ignore_result=True)
def send_notice_digests() -> int:
    return notices.claim_digests()
