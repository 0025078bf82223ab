"""What the outbox costs per row, and that batching keeps its guarantees.

One INSERT per `enqueue` (no savepoint, even with a dedup key), one for an
`enqueue_many` of any size; after the commit one broker publish per chunk of
the transaction's rows and no bookkeeping statement. The test handlers and
broker helpers are those of tests/oms/test_outbox.py.
"""

from __future__ import annotations

import base64
import json
import threading

import pytest
import redis
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from oms.lib import outbox
from oms.models import OutboxMessage
from tests.oms.test_outbox import (  # noqa: F401  _clear_calls and real_broker are fixtures
    TEST_QUEUE,
    UNREACHABLE_BROKER,
    _clear_calls,
    calls,
    celery_broker,
    real_broker,
    running_worker,
    wait_for,
)


@outbox.handler("tests.chain")
def _chain_handler(payload: dict) -> None:
    # Writes a row of its own inside the runner's transaction.
    outbox.enqueue("tests.record", {"token": f"after {payload['token']}"})


def queued_chunks(client: redis.Redis) -> list[list[int]]:
    """The id lists of the runner tasks waiting in the test queue."""
    chunks = []
    for raw in client.lrange(TEST_QUEUE, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "oms.tasks.run_outbox_messages"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        chunks.append(args[0])
    return sorted(chunks)


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    return [query["sql"].strip() for query in ctx.captured_queries]


def _verbs(ctx: CaptureQueriesContext) -> list[str]:
    return [sql.split()[0] for sql in _statements(ctx)]


@pytest.mark.django_db
def test_enqueue_is_one_insert_and_no_savepoint_even_with_a_dedup_key():
    with transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            plain = outbox.enqueue("tests.record", {"n": 1})
            keyed = outbox.enqueue("tests.record", {"n": 2}, dedup_key="k:2")
            duplicate = outbox.enqueue("tests.record", {"n": 3}, dedup_key="k:2")
        # The duplicate left the business transaction usable.
        Group.objects.create(name="still writable")

    statements = _statements(ctx)
    assert len(statements) == 3
    assert all(sql.startswith("INSERT INTO oms_outboxmessage") for sql in statements)
    assert duplicate is None
    for message in (plain, keyed):
        stored = OutboxMessage.objects.get(pk=message.pk)
        assert (stored.handler, stored.payload, stored.dedup_key, stored.status) == (
            message.handler, message.payload, message.dedup_key, OutboxMessage.Status.PENDING)
        # Stamped as dispatched by the INSERT itself: the commit hook publishes at once.
        assert stored.dispatched_at == stored.available_at == stored.created_at
        assert stored.created_at == message.created_at
    assert OutboxMessage.objects.count() == 2


@pytest.mark.django_db
def test_enqueue_many_is_one_statement_and_skips_keys_already_stored_or_repeated():
    with transaction.atomic():
        outbox.enqueue("tests.record", {"n": 0}, dedup_key="k:0")

    with transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            ids = outbox.enqueue_many("tests.record", [
                ({"n": 0}, "k:0"),  # already stored
                ({"n": 1}, "k:1"),
                ({"n": 2}, "k:1"),  # repeats the batch's own key
                ({"n": 3}, None),  # rows without a key never conflict
                ({"n": 4}, None),
            ])
        Group.objects.create(name="still writable")

    assert len(_statements(ctx)) == 1
    assert sorted(OutboxMessage.objects.filter(pk__in=ids).values_list("payload__n", flat=True)
                  ) == [1, 3, 4]
    assert OutboxMessage.objects.get(dedup_key="k:1").payload == {"n": 1}
    assert OutboxMessage.objects.filter(dedup_key="k:0").count() == 1
    assert OutboxMessage.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_enqueue_many_refuses_what_enqueue_refuses_and_writes_nothing_for_no_items():
    with pytest.raises(RuntimeError):
        outbox.enqueue_many("tests.record", [({}, None)])
    with transaction.atomic(), pytest.raises(ValueError):
        outbox.enqueue_many("tests.no-such-handler", [({}, None)])
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        assert outbox.enqueue_many("tests.record", []) == []
    assert ctx.captured_queries == []


@pytest.mark.django_db(transaction=True)
def test_a_commit_publishes_its_rows_in_chunks_and_writes_nothing_after(
        real_broker):  # noqa: F811
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        single = outbox.enqueue("tests.record", {"token": "single"})
        many = outbox.enqueue_many(
            "tests.record", [({"token": f"many {n}"}, f"many:{n}") for n in range(250)])
        keyed = outbox.enqueue("tests.record", {"token": "keyed"}, dedup_key="keyed")

    # Three INSERTs, then the commit; no UPDATE of dispatched_at, no savepoint.
    assert _verbs(ctx) == ["BEGIN", "INSERT", "INSERT", "INSERT", "COMMIT"]
    all_ids = [single.pk, *many, keyed.pk]
    chunks = queued_chunks(real_broker)
    assert sorted(len(chunk) for chunk in chunks) == [52, 100, 100]
    assert sorted(id_ for chunk in chunks for id_ in chunk) == sorted(all_ids)

    with running_worker():
        assert wait_for(lambda: not OutboxMessage.objects.exclude(
            status=OutboxMessage.Status.DONE).exists(), timeout=60)
    assert len(calls("tests.record")) == 252


@pytest.mark.django_db(transaction=True)
def test_a_row_whose_savepoint_rolled_back_is_never_run_and_the_others_are(
        real_broker):  # noqa: F811
    with transaction.atomic():
        try:
            with transaction.atomic():
                dropped_first = outbox.enqueue("tests.record", {"token": "dropped first"})
                raise ZeroDivisionError
        except ZeroDivisionError:
            pass
        kept = outbox.enqueue("tests.record", {"token": "kept"})
        try:
            with transaction.atomic():
                dropped_later = outbox.enqueue("tests.record", {"token": "dropped later"})
                raise ZeroDivisionError
        except ZeroDivisionError:
            pass

    # Each rollback took back its row and the hook that would have sent it.
    assert queued_chunks(real_broker) == [[kept.pk]]
    assert {dropped_first.pk, dropped_later.pk}.isdisjoint(queued_chunks(real_broker)[0])
    with running_worker():
        assert wait_for(lambda: OutboxMessage.objects.get(pk=kept.pk).status
                        == OutboxMessage.Status.DONE)
    assert [c["token"] for c in calls("tests.record")] == ["kept"]
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_nothing_for_the_next_commit(
        real_broker):  # noqa: F811
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox.enqueue_many("tests.record", [({"token": "lost"}, None)] * 3)
        1 / 0  # noqa: B018
    with transaction.atomic():
        sent = outbox.enqueue("tests.record", {"token": "sent"})

    assert queued_chunks(real_broker) == [[sent.pk]]


@pytest.mark.django_db(transaction=True)
def test_a_handler_that_enqueues_during_the_commit_hooks_gets_its_row_sent_too():
    # Eager tasks: the first commit's hook runs both rows in-process, and each
    # runner's own commit sends the row its handler wrote.
    with transaction.atomic():
        outbox.enqueue_many("tests.chain", [({"token": "a"}, None), ({"token": "b"}, None)])

    assert sorted(c["token"] for c in calls("tests.record")) == ["after a", "after b"]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {
        OutboxMessage.Status.DONE}
    assert OutboxMessage.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_failing_row_in_a_chunk_keeps_its_backoff_and_the_others_run():
    with transaction.atomic():
        failing = outbox.enqueue("tests.fail", {"token": "no"})
        fine = outbox.enqueue("tests.record", {"token": "yes"})

    failing.refresh_from_db()
    assert (failing.status, failing.attempts) == (OutboxMessage.Status.PENDING, 1)
    assert OutboxMessage.objects.get(pk=fine.pk).status == OutboxMessage.Status.DONE
    assert [c["token"] for c in calls("tests.record")] == ["yes"]


@pytest.mark.django_db(transaction=True)
def test_broker_down_unstamps_the_whole_batch_in_one_statement_and_the_relay_sends_it():
    with celery_broker(UNREACHABLE_BROKER):
        with CaptureQueriesContext(connection) as ctx, transaction.atomic():
            ids = outbox.enqueue_many("tests.record",
                                      [({"token": n}, None) for n in range(150)])
        # The INSERT, then after the failed publish one UPDATE for all rows.
        assert _verbs(ctx) == ["BEGIN", "INSERT", "COMMIT", "UPDATE"]
        assert _statements(ctx)[-1].startswith(
            "UPDATE oms_outboxmessage SET dispatched_at = NULL")
        assert OutboxMessage.objects.filter(pk__in=ids, dispatched_at__isnull=True).count() == 150
        assert outbox.relay() == 0
        assert OutboxMessage.objects.filter(dispatched_at__isnull=True).count() == 150

    # The broker is back (eager tasks here): one relay run sends and runs them all.
    assert outbox.relay() == 150
    assert sorted(c["token"] for c in calls("tests.record")) == list(range(150))
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {
        OutboxMessage.Status.DONE}


@pytest.mark.django_db(transaction=True)
def test_the_relay_stamps_its_rows_in_one_statement_and_publishes_chunks(
        real_broker):  # noqa: F811
    OutboxMessage.objects.bulk_create(
        OutboxMessage(handler="tests.record", payload={"n": n}) for n in range(250))

    with CaptureQueriesContext(connection) as ctx:
        assert outbox.relay(limit=220) == 220
    assert _verbs(ctx) == ["SELECT", "UPDATE"]
    assert sorted(len(chunk) for chunk in queued_chunks(real_broker)) == [20, 100, 100]
    assert OutboxMessage.objects.filter(dispatched_at__isnull=True).count() == 30
    # Stamped: the next relay run only takes the rest.
    assert outbox.relay() == 30


@pytest.mark.parametrize("first_outcome", ["commit", "rollback"])
@pytest.mark.django_db(transaction=True)
def test_two_transactions_enqueueing_one_key_make_one_row_and_the_second_waits(
        first_outcome):
    first_wrote = threading.Event()
    first_may_finish = threading.Event()
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = outbox.enqueue("tests.record", {"who": "first"},
                                                  dedup_key="race")
                first_wrote.set()
                first_may_finish.wait(timeout=20)
                if first_outcome == "rollback":
                    raise ZeroDivisionError
        except ZeroDivisionError:
            pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_wrote.wait(timeout=20)
            with transaction.atomic():
                results["second"] = outbox.enqueue("tests.record", {"who": "second"},
                                                   dedup_key="race")
                Group.objects.create(name="the second transaction's own write")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_wrote.wait(timeout=20)

    def second_waits_on_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity"
                           " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                           " AND wait_event_type = 'Lock'"
                           " AND query LIKE '%%INSERT INTO oms_outboxmessage%%'")
            return cursor.fetchone()[0] == 1

    assert wait_for(second_waits_on_a_lock)
    assert "second" not in results
    first_may_finish.set()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Group.objects.filter(name="the second transaction's own write").exists()
    (row,) = OutboxMessage.objects.filter(dedup_key="race")
    if first_outcome == "commit":
        assert results["second"] is None
        assert row.pk == results["first"].pk and row.payload == {"who": "first"}
    else:
        assert row.pk == results["second"].pk and row.payload == {"who": "second"}
    assert [c["who"] for c in calls("tests.record")] == [row.payload["who"]]


@pytest.mark.django_db
def test_a_hook_sends_only_rows_written_from_its_own_write_on(django_capture_on_commit_callbacks):
    # Inside a test transaction a captured set of hooks runs while earlier
    # writes' hooks never do: only the captured writes' rows are run.
    outbox.enqueue("tests.record", {"token": "before, never committed"})
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        outbox.enqueue("tests.record", {"token": "first"})
        outbox.enqueue_many("tests.record", [({"token": "second"}, None)])

    assert len(hooks) == 2
    assert [c["token"] for c in calls("tests.record")] == ["first", "second"]


@pytest.mark.django_db(transaction=True)
def test_a_row_run_here_is_run_by_the_committing_process_and_never_published(
        real_broker):  # noqa: F811
    with transaction.atomic():
        message = outbox.enqueue("tests.record", {"token": "here"}, run_here=True)
        assert calls("tests.record") == []  # nothing before the commit

    assert calls("tests.record") == [{"token": "here", "outbox_message_id": message.pk}]
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.DONE
    assert real_broker.llen(TEST_QUEUE) == 0


def _terminate_this_connection() -> None:
    """Another session ends the server process behind Django's connection, as
    a database restart right after a commit would."""
    import psycopg

    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_a_run_here_row_the_database_loses_after_commit_is_left_to_the_relay():
    try:
        with transaction.atomic():
            # Registered first, so it runs first: the run-here hook finds no database.
            transaction.on_commit(_terminate_this_connection)
            message = outbox.enqueue("tests.record", {"token": "here"}, run_here=True)
        # The caller's commit stands; the failed run is logged, not raised.
    finally:
        connection.close()

    assert calls("tests.record") == []
    row = OutboxMessage.objects.get(pk=message.pk)
    assert (row.status, row.attempts) == (OutboxMessage.Status.PENDING, 0)
