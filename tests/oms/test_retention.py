"""Housekeeping: done outbox rows, old API answers, old used form keys and
expired sessions go; everything still useful stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from oms.lib.retention import purge_old_records
from oms.models import ApiToken, FormSubmission, IdempotencyRecord, OutboxMessage

pytestmark = pytest.mark.django_db


def _outbox(status: str, *, done_days_ago: int | None, key: str) -> OutboxMessage:
    done_at = (timezone.now() - timedelta(days=done_days_ago)
               if done_days_ago is not None else None)
    return OutboxMessage.objects.create(handler="orders.send_order_email", payload={},
                                        status=status, done_at=done_at, dedup_key=key)


def test_old_bookkeeping_is_purged_and_the_rest_kept():
    old, recent = settings.OUTBOX_RETENTION_DAYS + 1, settings.OUTBOX_RETENTION_DAYS - 1
    gone = _outbox(OutboxMessage.Status.DONE, done_days_ago=old, key="gone")
    kept = [_outbox(OutboxMessage.Status.DONE, done_days_ago=recent, key="recent"),
            # Failed rows wait for a person however old they are; pending ones still run.
            _outbox(OutboxMessage.Status.FAILED, done_days_ago=old, key="failed"),
            _outbox(OutboxMessage.Status.PENDING, done_days_ago=None, key="pending")]
    token = ApiToken.objects.create(name="shop", token_hash="a" * 64, prefix="oms_a")
    stale = IdempotencyRecord.objects.create(token=token, key="old", request_hash="h",
                                             response_status=201, response_body={})
    IdempotencyRecord.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(days=settings.IDEMPOTENCY_RETENTION_DAYS + 1))
    fresh = IdempotencyRecord.objects.create(token=token, key="new", request_hash="h",
                                             response_status=201, response_body={})
    old_key = FormSubmission.objects.create(key="a" * 32, purpose="billing.record_payment")
    FormSubmission.objects.filter(pk=old_key.pk).update(
        created_at=timezone.now() - timedelta(days=settings.FORM_KEY_RETENTION_DAYS + 1))
    recent_key = FormSubmission.objects.create(key="b" * 32, purpose="billing.record_payment")
    FormSubmission.objects.filter(pk=recent_key.pk).update(
        created_at=timezone.now() - timedelta(days=settings.FORM_KEY_RETENTION_DAYS - 1))
    Session.objects.create(session_key="expired", session_data="x",
                           expire_date=timezone.now() - timedelta(seconds=1))
    Session.objects.create(session_key="live", session_data="x",
                           expire_date=timezone.now() + timedelta(hours=1))

    assert purge_old_records() == {"outbox": 1, "idempotency": 1, "form_keys": 1}

    assert not OutboxMessage.objects.filter(pk=gone.pk).exists()
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) >= {m.pk for m in kept}
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert list(FormSubmission.objects.values_list("pk", flat=True)) == [recent_key.pk]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_the_purge_runs_daily_from_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["oms-purge-old-records"]
    assert entry == {"task": "oms.tasks.purge_old_records", "schedule": 24 * 3600.0}
    from oms.tasks import purge_old_records as task

    assert task.name == "oms.tasks.purge_old_records"
    assert task.apply().get() == {"outbox": 0, "idempotency": 0, "form_keys": 0}
