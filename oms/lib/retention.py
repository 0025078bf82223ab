"""Housekeeping of the project's own bookkeeping tables.

Done outbox rows, stored API answers, used one-time form keys and expired
sessions have served their purpose after a while; left alone they grow with every order for ever.
Failed outbox rows stay until someone looks at them (the admin).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from oms.models import FormSubmission, IdempotencyRecord, OutboxMessage


def purge_old_records(*, now: datetime | None = None) -> dict[str, int]:
    """Delete done outbox rows older than OUTBOX_RETENTION_DAYS, API answers
    older than IDEMPOTENCY_RETENTION_DAYS (a retry after that is a new
    request), used form keys older than FORM_KEY_RETENTION_DAYS (a page left
    open longer is out of date anyway) and expired sessions; the counts
    deleted, by table."""
    now = now or timezone.now()
    outbox_cutoff = now - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    idempotency_cutoff = now - timedelta(days=settings.IDEMPOTENCY_RETENTION_DAYS)
    outbox, _ = OutboxMessage.objects.filter(status=OutboxMessage.Status.DONE,
                                             done_at__lt=outbox_cutoff).delete()
    form_key_cutoff = now - timedelta(days=settings.FORM_KEY_RETENTION_DAYS)
    answers, _ = IdempotencyRecord.objects.filter(created_at__lt=idempotency_cutoff).delete()
    form_keys, _ = FormSubmission.objects.filter(created_at__lt=form_key_cutoff).delete()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return {"outbox": outbox, "idempotency": answers, "form_keys": form_keys}
