"""The transactional outbox on the real stack: PostgreSQL, Redis and a Celery
worker running in a thread of the test process.

Handlers registered here are test-only; their effect is a call recorded in
memory, which the worker thread shares with the test.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
from celery import _state as celery_state
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from kombu import pools

from oms.celery import app as celery_app
from oms.lib import outbox
from oms.models import OutboxMessage
from oms.tasks import relay_outbox

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"
TEST_QUEUE = f"oms-test-outbox-{uuid.uuid4().hex[:8]}"

_calls: list[tuple[str, dict]] = []
_calls_lock = threading.Lock()


def _record(name: str, payload: dict) -> None:
    with _calls_lock:
        _calls.append((name, payload))


def calls(name: str) -> list[dict]:
    with _calls_lock:
        return [payload for called, payload in _calls if called == name]


@outbox.handler("tests.record")
def _record_handler(payload: dict) -> None:
    _record("tests.record", payload)


@outbox.handler("tests.slow")
def _slow_handler(payload: dict) -> None:
    _record("tests.slow", payload)
    time.sleep(0.5)  # long enough for a second runner to arrive while this one holds the row


@outbox.handler("tests.fail")
def _failing_handler(payload: dict) -> None:
    _record("tests.fail", payload)
    Group.objects.create(name=f"written by a failing handler {len(calls('tests.fail'))}")
    raise RuntimeError("the mail server said no")


@pytest.fixture(autouse=True)
def _clear_calls():
    with _calls_lock:
        _calls.clear()
    yield


def _broker_url() -> str:
    return settings.REDIS_URL or "redis://127.0.0.1:6379/2"


def _reset_broker_pools() -> None:
    # The app caches its connection and producer pools per broker URL; after
    # switching URL both must be rebuilt or publishing keeps the old target.
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _route_tasks(routes) -> None:
    celery_app.conf.task_routes = routes
    celery_app.amqp.flush_routes()
    celery_app.amqp.__dict__.pop("router", None)  # cached with the old routing table


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Publish for real (not eager) to `url`, on a queue of this test run only;
    restore the app's config after."""
    conf = celery_app.conf
    saved = {"broker_url": conf.broker_url, "task_always_eager": conf.task_always_eager}
    saved_routes = conf.task_routes
    _reset_broker_pools()
    conf.broker_url = url
    conf.task_always_eager = False
    _route_tasks({"oms.tasks.*": {"queue": TEST_QUEUE}})
    try:
        yield
    finally:
        _reset_broker_pools()
        conf.update(saved)
        _route_tasks(saved_routes)


@pytest.fixture
def real_broker() -> Iterator[redis.Redis]:
    """The test Redis as the broker. Only this run's own queue is emptied, so
    a development worker sharing the Redis database loses nothing."""
    client = redis.Redis.from_url(_broker_url())
    client.delete(TEST_QUEUE)
    with celery_broker(_broker_url()):
        yield client
    for key in client.scan_iter(f"*{TEST_QUEUE}*"):  # the queue and kombu's bindings of it
        client.delete(key)
    client.close()


@contextmanager
def running_worker() -> Iterator[None]:
    # The worker flags the whole process as "inside a worker", which makes
    # later eager `.apply().get()` calls in other tests refuse to block.
    blocked_before = celery_state.task_join_will_block()
    try:
        with start_worker(celery_app, pool="solo", concurrency=1, perform_ping_check=False,
                          shutdown_timeout=30, queues=[TEST_QUEUE]):
            yield
    finally:
        celery_state._set_task_join_will_block(blocked_before)


def wait_for(predicate: Callable[[], bool], *, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _status(message_id: int) -> str:
    return OutboxMessage.objects.get(pk=message_id).status


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_is_sent_after_commit_and_run_by_the_worker(real_broker):
    with running_worker():
        with transaction.atomic():
            Group.objects.create(name="business change")
            message = outbox.enqueue("tests.record", {"token": "committed"})
            assert calls("tests.record") == []  # nothing runs before the commit

        assert wait_for(lambda: _status(message.pk) == OutboxMessage.Status.DONE)

    message.refresh_from_db()
    assert message.attempts == 1
    assert message.done_at is not None
    assert [c["token"] for c in calls("tests.record")] == ["committed"]
    assert calls("tests.record")[0]["outbox_message_id"] == message.pk


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing(real_broker):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        Group.objects.create(name="business change")
        outbox.enqueue("tests.record", {"token": "rolled back"})
        1 / 0  # noqa: B018

    assert not OutboxMessage.objects.exists()
    assert not Group.objects.filter(name="business change").exists()
    # Nothing reached the broker's queue either.
    assert real_broker.llen(TEST_QUEUE) == 0
    with running_worker():
        assert outbox.relay() == 0
        time.sleep(1)
    assert calls("tests.record") == []


@pytest.mark.django_db(transaction=True)
def test_broker_down_commits_quickly_keeps_the_row_and_the_relay_sends_it_once_back(
        real_broker):
    with celery_broker(UNREACHABLE_BROKER):
        started = time.monotonic()
        with transaction.atomic():
            Group.objects.create(name="order placed while Redis is down")
            message = outbox.enqueue("tests.record", {"token": "while down"})
        elapsed = time.monotonic() - started
        # The on_commit dispatch failed fast instead of hanging the request.
        assert elapsed < 5, f"commit with the broker down took {elapsed:.1f}s"
        assert Group.objects.filter(name="order placed while Redis is down").exists()
        message.refresh_from_db()
        assert message.status == OutboxMessage.Status.PENDING
        assert message.dispatched_at is None
        # The relay cannot reach the broker either; it gives up without raising.
        assert outbox.relay() == 0

    assert calls("tests.record") == []
    with running_worker():
        # The broker is back: the periodic relay task (run by the worker, as
        # beat would schedule it) re-sends the row and the worker runs it.
        relay_outbox.delay()
        assert wait_for(lambda: _status(message.pk) == OutboxMessage.Status.DONE)
        # Late or duplicate deliveries of the same row are no-ops.
        outbox.dispatch(message.pk)
        outbox.dispatch(message.pk)
        assert outbox.relay() == 0
        assert wait_for(lambda: real_broker.llen(TEST_QUEUE) == 0)
        time.sleep(1)

    assert [c["token"] for c in calls("tests.record")] == ["while down"]
    message.refresh_from_db()
    assert message.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_accepts_but_never_answers_delays_the_commit_by_seconds_only():
    # Worse than a refused connection: a host that takes the connection and
    # then says nothing. The socket timeouts bound the wait.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(50)
    try:
        with celery_broker(f"redis://127.0.0.1:{silent.getsockname()[1]}/0"):
            started = time.monotonic()
            with transaction.atomic():
                message = outbox.enqueue("tests.record", {"token": "silent broker"})
            elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert elapsed < 15, f"commit next to a silent broker took {elapsed:.1f}s"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.dispatched_at is None


@pytest.mark.django_db(transaction=True)
def test_a_claimed_row_is_run_by_exactly_one_of_two_concurrent_runners():
    # Written directly, so no after-commit dispatch runs it before the race.
    message = OutboxMessage.objects.create(handler="tests.slow", payload={"token": "once"})

    barrier = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(outbox.run_message(message.pk))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(results) == [False, True]
    assert len(calls("tests.slow")) == 1
    assert _status(message.pk) == OutboxMessage.Status.DONE
    # Done rows are never run again.
    assert outbox.run_message(message.pk) is False
    assert len(calls("tests.slow")) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_is_retried_with_backoff_then_marked_failed(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    with transaction.atomic():
        message = outbox.enqueue("tests.fail", {"token": "doomed"})
    # The eager after-commit dispatch made the first attempt.
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.status == OutboxMessage.Status.PENDING
    assert "the mail server said no" in message.last_error
    first_delay = message.available_at - timezone.now()
    assert timedelta(seconds=10) < first_delay <= timedelta(seconds=15)

    # Not due yet: neither a runner nor the relay touches it.
    assert outbox.run_message(message.pk) is False
    assert outbox.relay() == 0
    assert len(calls("tests.fail")) == 1

    # Due again: the relay re-dispatches it (it was rescheduled after its last
    # dispatch) and the second attempt backs off twice as long.
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox.relay() == 1
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.status == OutboxMessage.Status.PENDING
    second_delay = message.available_at - timezone.now()
    assert timedelta(seconds=25) < second_delay <= timedelta(seconds=30)

    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox.run_message(message.pk) is False
    message.refresh_from_db()
    assert message.attempts == 3
    assert message.status == OutboxMessage.Status.FAILED
    assert len(calls("tests.fail")) == 3
    # Each attempt's own writes were rolled back with it.
    assert not Group.objects.filter(name__startswith="written by a failing handler").exists()

    # Failed rows stay failed until someone retries them.
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox.relay() == 0
    assert outbox.run_message(message.pk) is False
    assert len(calls("tests.fail")) == 3


@pytest.mark.django_db(transaction=True)
def test_retry_now_gives_a_failed_row_fresh_attempts_and_runs_it():
    with transaction.atomic():
        failed = outbox.enqueue("tests.record", {"token": "again"})
        done = outbox.enqueue("tests.record", {"token": "already"})
    OutboxMessage.objects.filter(pk=failed.pk).update(
        status=OutboxMessage.Status.FAILED, attempts=8, last_error="boom")
    with _calls_lock:
        _calls.clear()

    assert outbox.retry_now(message_ids=[failed.pk, done.pk]) == 1

    failed.refresh_from_db()
    assert failed.status == OutboxMessage.Status.DONE
    assert failed.attempts == 1
    assert [c["token"] for c in calls("tests.record")] == ["again"]


@pytest.mark.django_db
def test_enqueue_with_the_same_dedup_key_twice_makes_one_row():
    with transaction.atomic():
        first = outbox.enqueue("tests.record", {"invoice": 7}, dedup_key="reminder:7:2")
        second = outbox.enqueue("tests.record", {"invoice": 7}, dedup_key="reminder:7:2")
        # The duplicate left the business transaction usable.
        Group.objects.create(name="still writable")

    assert first is not None
    assert second is None
    assert OutboxMessage.objects.filter(dedup_key="reminder:7:2").count() == 1

    with transaction.atomic():
        assert outbox.enqueue("tests.record", {"invoice": 7}, dedup_key="reminder:7:2") is None
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_enqueue_refuses_to_run_outside_a_transaction_or_with_an_unknown_handler():
    with pytest.raises(RuntimeError):
        outbox.enqueue("tests.record", {})
    with transaction.atomic(), pytest.raises(ValueError):
        outbox.enqueue("tests.no-such-handler", {})


def test_registering_two_handlers_under_one_name_is_refused():
    with pytest.raises(ValueError):
        outbox.handler("tests.record")(lambda payload: None)


@pytest.mark.django_db(transaction=True)
def test_the_relay_resends_a_row_the_broker_lost_but_not_one_still_queued(settings):
    settings.OUTBOX_REDISPATCH_SECONDS = 300
    now = timezone.now()
    queued = OutboxMessage.objects.create(handler="tests.record", payload={"token": "queued"},
                                          dispatched_at=now - timedelta(seconds=60))
    lost = OutboxMessage.objects.create(handler="tests.record", payload={"token": "lost"},
                                        dispatched_at=now - timedelta(seconds=600))
    OutboxMessage.objects.filter(pk__in=[queued.pk, lost.pk]).update(
        available_at=now - timedelta(seconds=900))

    assert outbox.relay() == 1
    assert [c["token"] for c in calls("tests.record")] == ["lost"]
    assert _status(queued.pk) == OutboxMessage.Status.PENDING
