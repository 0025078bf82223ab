"""The transactional outbox.

`enqueue()` and `enqueue_many()` write rows inside the caller's transaction
(one INSERT, no savepoint); once that transaction commits, all of its rows
go to Celery together, `DISPATCH_CHUNK` ids a task. The rows are written
already stamped `dispatched_at`, so a commit costs no bookkeeping statement;
a publish that fails clears the stamp, and the periodic relay re-dispatches
rows never stamped or stamped longer ago than OUTBOX_REDISPATCH_SECONDS
(a broker that lost them, or a crash between the commit and the publish).
A row written `run_here` is run by the committing process itself instead,
and reaches a worker through the relay only if that process never ran it.

The runner claims a row with `SELECT ... FOR UPDATE SKIP LOCKED` and runs
the handler inside the same transaction that marks it done, so a row is run
by one worker at a time and a crash rolls both back. Effects are therefore
at least once; handlers that reach outside (SMTP) use the message id as
their idempotency key.
"""

from __future__ import annotations

import json
import logging
import traceback
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from oms.models import OutboxMessage

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

Handler = Callable[[dict], None]
_HANDLERS: dict[str, Handler] = {}

# Ids per task: enough to make a sweep of 30,000 e-mails a few hundred
# publishes, few enough that a pool of workers shares them out and a task
# (run one row after another) stays far inside the task time limit.
DISPATCH_CHUNK = 100
# Published by name: the task module (oms.tasks) imports this one, not the
# other way round.
RUNNER_TASK = "oms.tasks.run_outbox_messages"


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


# ON CONFLICT (dedup_key) matches the plain UNIQUE constraint on the nullable
# column: NULL keys never conflict, and an insert racing a concurrent
# uncommitted row with the same key waits for that transaction, then skips
# the row if it committed. No savepoint: a duplicate is no error, so the
# caller's transaction stays usable.
_INSERT_SQL = """
INSERT INTO oms_outboxmessage (handler, payload, dedup_key, status, attempts,
                               available_at, dispatched_at, created_at, last_error)
SELECT COALESCE(item.handler, %(handler)s), item.payload, item.dedup_key, 'pending', 0,
       %(available_at)s::timestamptz, %(dispatched_at)s::timestamptz, %(now)s, ''
  FROM json_to_recordset(%(items)s::json) AS item(handler text, payload jsonb, dedup_key text)
    ON CONFLICT (dedup_key) DO NOTHING
RETURNING id
"""


def enqueue(handler_name: str, payload: dict, *, dedup_key: str | None = None,
            run_here: bool = False, not_before: datetime | None = None
            ) -> OutboxMessage | None:
    """Write a side effect into the current transaction.

    Returns None when a row with the same `dedup_key` already exists.
    `run_here`: once the transaction commits, this process runs the row
    itself instead of publishing it, so the caller's answer includes its
    effect (the payment approval of a placement); should the process die
    first, the relay hands the row to a worker like any other.
    `not_before`: a later side effect (a follow-up e-mail); the row is not
    published at commit, the relay sends it once it is due.
    """
    now = timezone.now()
    later = not_before is not None and not_before > now
    ids = _insert(handler_name, [(payload, dedup_key)], now=now, run_here=run_here,
                  not_before=not_before if later else None)
    if not ids:
        return None
    values = {"id": ids[0], "handler": handler_name, "payload": payload,
              "dedup_key": dedup_key, "status": OutboxMessage.Status.PENDING, "attempts": 0,
              "available_at": not_before if later else now,
              "dispatched_at": None if later else now, "created_at": now, "done_at": None,
              "last_error": ""}
    fields = [f.attname for f in OutboxMessage._meta.concrete_fields]
    return OutboxMessage.from_db(transaction.get_connection().alias, fields,
                                 [values[name] for name in fields])


def enqueue_many(handler_name: str, items: Iterable[tuple[dict, str | None]]) -> list[int]:
    """Write one row per `(payload, dedup_key)` item, in one statement.

    An item whose key already exists, or repeats an earlier item's key, is
    skipped. Returns the ids of the rows written.
    """
    return _insert(handler_name, list(items), now=timezone.now())


def enqueue_each(items: Iterable[tuple[str, dict, str | None]]) -> list[int]:
    """Like `enqueue_many` for rows of different handlers: one statement
    for `(handler, payload, dedup_key)` items (a placement's e-mail and its
    domain event)."""
    rows = list(items)
    if not rows:
        return []
    return _insert(rows[0][0], [(payload, key) for _name, payload, key in rows],
                   now=timezone.now(), handlers=[name for name, _payload, _key in rows])


def _insert(handler_name: str, items: list[tuple[dict, str | None]], *, now: datetime,
            run_here: bool = False, handlers: list[str] | None = None,
            not_before: datetime | None = None) -> list[int]:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("the outbox must be written inside the business transaction")
    names = handlers or [handler_name] * len(items)
    for name in {handler_name, *names}:
        if name not in _HANDLERS:
            raise ValueError(f"no outbox handler named {name!r}")
    if not items:
        return []
    with connection.cursor() as cursor:
        # The items as one JSON document: one parameter to quote, however
        # many rows (text arrays are quoted element by element, in Python).
        cursor.execute(_INSERT_SQL, {
            "handler": handler_name, "now": now, "available_at": not_before or now,
            # A row due later is left to the relay: not stamped, not published.
            "dispatched_at": None if not_before else now,
            "items": json.dumps([{"handler": name, "payload": payload, "dedup_key": key}
                                 for name, (payload, key) in zip(names, items, strict=True)]),
        })
        ids = [row[0] for row in cursor.fetchall()]
    if not_before is not None:
        return ids
    if run_here and ids:
        def run_here_after_commit() -> None:
            run_messages(ids)

        # A function, not a functools.partial: when a robust hook fails (the
        # database went away right after the commit), Django logs it by its
        # __qualname__, which a partial lacks, and the request would 500.
        transaction.on_commit(run_here_after_commit, robust=True)
    else:
        _send_after_commit(ids)
    return ids


class _Batch:
    """The on_commit hooks of one transaction's writes, in order."""

    def __init__(self) -> None:
        self.hooks: list[weakref.ref[_SendHook]] = []
        self.sending = False  # a hook ran: later writes belong to a new batch


class _SendHook:
    """The on_commit hook of one write: one per write, not per transaction,
    because a savepoint rollback drops the hooks registered inside it, and
    with them the rows it took back.

    The first hook to run sends its rows and those of every hook registered
    after it that is still alive, i.e. will run too; they then have nothing
    left to send. So a commit makes one publish per chunk, and rows of a
    rolled-back savepoint (dead hooks) are not sent.
    """

    def __init__(self, batch: _Batch, message_ids: list[int]) -> None:
        self.batch = batch
        self.position = len(batch.hooks)
        self.message_ids = message_ids
        batch.hooks.append(weakref.ref(self))

    def __call__(self) -> None:
        self.batch.sending = True
        message_ids: list[int] = []
        for ref in self.batch.hooks[self.position:]:
            hook = ref()
            if hook is not None:
                message_ids += hook.message_ids
                hook.message_ids = []
        _send(message_ids)


# Each connection's batch in progress, held weakly: only its hooks keep it
# alive, so a rollback, which drops the hooks, ends the batch too.
_open_batches: weakref.WeakKeyDictionary[BaseDatabaseWrapper, weakref.ref[_Batch]] = (
    weakref.WeakKeyDictionary())


def _send_after_commit(message_ids: list[int]) -> None:
    if not message_ids:
        return
    connection = transaction.get_connection()
    batch_ref = _open_batches.get(connection)
    batch = batch_ref() if batch_ref is not None else None
    if batch is None or batch.sending:  # sending: an earlier commit's, still in its hooks
        batch = _Batch()
        _open_batches[connection] = weakref.ref(batch)
    transaction.on_commit(_SendHook(batch, message_ids))


def _send(message_ids: list[int]) -> int:
    """Publish rows already stamped `dispatched_at`, a chunk of ids per task.

    Never raises: when the broker refuses a chunk, that chunk and the rest
    lose their stamp, so the next relay run sends them. Returns how many
    ids were published.
    """
    for start in range(0, len(message_ids), DISPATCH_CHUNK):
        chunk = message_ids[start:start + DISPATCH_CHUNK]
        try:
            # A short argsrepr: the worker logs it, and Celery would otherwise
            # build the repr of every id list.
            current_app.signature(RUNNER_TASK).apply_async(
                args=[chunk], argsrepr=f"[{len(chunk)} outbox ids from {chunk[0]}]")
        except Exception:  # broker down, timeout, serialization: the rows stay pending
            unsent = message_ids[start:]
            logger.warning("outbox: could not dispatch %d message(s) from %s; relay will retry",
                           len(unsent), unsent[0], exc_info=True)
            with transaction.get_connection().cursor() as cursor:  # = ANY: any number of ids
                cursor.execute("UPDATE oms_outboxmessage SET dispatched_at = NULL"
                               " WHERE id = ANY(%s) AND status = 'pending'", [unsent])
            return start
    return len(message_ids)


def dispatch(message_id: int) -> bool:
    """Hand one row to the broker now (by hand: a shell, a test).

    Never raises; a row that is not pending and due is left alone by its
    runner, so a late or duplicate dispatch is harmless.
    """
    return _send([message_id]) == 1


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


def run_messages(message_ids: list[int]) -> int:
    """Run a chunk of rows one after another, each in its own transaction
    (a failing row keeps its own attempt and backoff); returns how many ran."""
    return sum(run_message(message_id) for message_id in message_ids)


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
    if not ids:
        return 0
    # Stamped before the publish, as enqueue does; a failed publish clears it.
    OutboxMessage.objects.filter(pk__in=ids).update(dispatched_at=now)
    return _send(ids)


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
        OutboxMessage.objects.filter(pk__in=ids).update(available_at=now, dispatched_at=now)
        _send_after_commit(ids)
    return len(ids)
