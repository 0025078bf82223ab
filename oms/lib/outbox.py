"""The transactional outbox.

`enqueue()` writes a row inside the caller's transaction and hands it to
Celery once that transaction commits. The runner claims the row with
`SELECT ... FOR UPDATE SKIP LOCKED` and runs the handler inside the same
transaction that marks it done, so a row is run by one worker at a time and
a crash rolls both back; the periodic relay re-dispatches rows whose task the
broker never delivered. Effects are therefore at least once; handlers that
reach outside (SMTP) use the message id as their idempotency key.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from oms.models import OutboxMessage

logger = logging.getLogger(__name__)

Handler = Callable[[dict], None]
_HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of outbox rows named `name`.

    The handler runs inside the runner's transaction (that is what makes a
    claimed row run once), so it must not open a durable atomic block: call
    the non-durable variant of a service from a handler. It receives the
    payload plus `outbox_message_id`, the idempotency key for outside calls.
    """

    def register(func: Handler) -> Handler:
        if name in _HANDLERS and _HANDLERS[name] is not func:
            raise ValueError(f"outbox handler {name!r} registered twice")
        _HANDLERS[name] = func
        return func

    return register


def registered_handlers() -> dict[str, Handler]:
    return dict(_HANDLERS)


def enqueue(handler_name: str, payload: dict, *, dedup_key: str | None = None
            ) -> OutboxMessage | None:
    """Write a side effect into the current transaction.

    Returns None when a row with the same `dedup_key` already exists.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.enqueue() must run inside the business transaction")
    if handler_name not in _HANDLERS:
        raise ValueError(f"no outbox handler named {handler_name!r}")
    if dedup_key is None:
        message = OutboxMessage.objects.create(handler=handler_name, payload=payload)
    else:
        # A savepoint, so a duplicate key leaves the caller's transaction usable.
        # A concurrent uncommitted insert of the same key makes this wait for it.
        try:
            with transaction.atomic():
                message = OutboxMessage.objects.create(
                    handler=handler_name, payload=payload, dedup_key=dedup_key)
        except IntegrityError:
            return None
    transaction.on_commit(partial(dispatch, message.pk))
    return message


def dispatch(message_id: int) -> bool:
    """Hand a row to the broker. Never raises: the relay retries later."""
    from oms.tasks import run_outbox_message

    try:
        run_outbox_message.apply_async(args=[message_id])
    except Exception:  # broker down, timeout, serialization: the row stays pending
        logger.warning("outbox: could not dispatch message %s; relay will retry",
                       message_id, exc_info=True)
        return False
    OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING).update(
        dispatched_at=timezone.now()
    )
    return True


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


def run_message(message_id: int) -> bool:
    """Claim one row and run its handler; True if this call ran it."""
    with transaction.atomic(durable=True):
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING,
                    available_at__lte=timezone.now())
            .first()
        )
        if message is None:  # done, failed, not due, or held by another worker
            return False
        message.attempts += 1
        func = _HANDLERS.get(message.handler)
        try:
            if func is None:
                raise LookupError(f"no outbox handler named {message.handler!r}")
            with transaction.atomic():  # a failing handler rolls back its own writes only
                func({**message.payload, "outbox_message_id": message.pk})
        except Exception:
            message.last_error = traceback.format_exc()[-4000:]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
                logger.error("outbox: message %s failed for good", message.pk)
            else:
                message.available_at = timezone.now() + _backoff(message.attempts)
            message.save(update_fields=["attempts", "last_error", "status", "available_at"])
            return False
        message.status = OutboxMessage.Status.DONE
        message.done_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["attempts", "status", "done_at", "last_error"])
        return True


def relay(*, limit: int = 500) -> int:
    """Re-dispatch pending rows that are due and not dispatched recently."""
    now = timezone.now()
    # A row still pending this long after its dispatch was lost by the broker.
    # Not the relay interval: with a backlogged queue every relay run would
    # pile another copy of each waiting row onto it.
    stale = now - timedelta(seconds=settings.OUTBOX_REDISPATCH_SECONDS)
    ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, available_at__lte=now)
        # never sent, sent long ago and still pending (lost by the broker), or
        # rescheduled by a failed attempt after its last dispatch
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale)
                | Q(dispatched_at__lt=F("available_at")))
        .order_by("available_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for message_id in ids:
        if not dispatch(message_id):
            break  # broker still down: stop hammering it
        sent += 1
    return sent


def retry_now(*, message_ids: list[int]) -> int:
    """Give failed rows a fresh set of attempts and run waiting rows now.

    Failed rows go back to pending with their attempt count reset; pending
    rows waiting out a backoff become due at once. Done rows are left alone:
    their effect happened. Returns how many rows were rescheduled.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        ids = list(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=message_ids,
                    status__in=[OutboxMessage.Status.FAILED, OutboxMessage.Status.PENDING])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=ids, status=OutboxMessage.Status.FAILED).update(
            status=OutboxMessage.Status.PENDING, attempts=0)
        OutboxMessage.objects.filter(pk__in=ids).update(available_at=now, dispatched_at=None)
        for message_id in ids:
            transaction.on_commit(partial(dispatch, message_id))
    return len(ids)
