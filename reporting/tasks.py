"""Thin Celery tasks of reporting: one task per report run.

Beat (django-celery-beat, a PeriodicTask per subscription) calls
`run_subscription(subscription_id=...)` without a slot: the slot is the
latest scheduled time at or before now. "Send now" and "retry" pass theirs.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings

from reporting import subscriptions
from reporting.models import ReportSubscription


def backoff_seconds(retries: int) -> int:
    """60 s, 120 s, 240 s... capped at an hour."""
    return min(3600, 60 * 2 ** retries)


# acks_late is safe: the run row is claimed, so a redelivery of a finished run
# does nothing and one of a run lost mid-way is taken up again.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             max_retries=None, time_limit=3600, soft_time_limit=3300)
def run_subscription(self, subscription_id: int, scheduled_for_iso: str | None = None) -> bool:
    subscription = ReportSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return False
    if scheduled_for_iso:
        slot = datetime.fromisoformat(scheduled_for_iso)
    else:
        if not subscription.is_active:
            return False
        slot = subscriptions.latest_slot(subscription)
    try:
        return subscriptions.execute_run(subscription_id=subscription_id, slot=slot) is not None
    except Exception as error:
        # The run is recorded as failed; try again later with the same slot.
        if self.request.retries + 1 >= settings.REPORT_RUN_MAX_ATTEMPTS:
            return False
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries),
                         kwargs={"subscription_id": subscription_id,
                                 "scheduled_for_iso": slot.isoformat()}) from error


@shared_task(ignore_result=True)
def purge_old_report_files() -> int:
    return subscriptions.purge_old_files()
