"""A Celery worker killed with SIGKILL in the middle of an outbox task: the
customer e-mail it was sending goes out exactly once, once a worker runs again.

The mail backend (tests/faults/mailbox.py) holds the worker just before the
message leaves, until the test has killed it. The runner's claim (a row lock
in the transaction that marks the row done) dies with the worker's
connection; the task comes back through acks_late/reject_on_worker_lost (a
pool process lost) or the outbox relay (the whole worker lost, its message
unacknowledged in Redis), and the claim makes every copy after the first a
no-op.
"""

from __future__ import annotations

import os
import re
import signal

import pytest
import redis
import requests

from tests.faults.conftest import Stack, wait_until

TIMEOUT = 90


def _place_order(stack: Stack) -> str:
    response = stack.place_order(requests, "ada@example.com")
    assert response.status_code == 201, response.text
    return response.json()["number"]


def _email_rows(stack: Stack, number: str) -> list[tuple[int, str]]:
    return stack.query(
        "SELECT m.id, m.status FROM oms_outboxmessage m"
        " JOIN orders_order o ON o.id = (m.payload ->> 'order_id')::bigint"
        " WHERE m.handler = 'orders.send_order_email' AND o.number = %s ORDER BY m.id",
        [number])


def _paused_pid(stack: Stack) -> int | None:
    markers = list(stack.pause_dir.glob("paused-*"))
    return int(markers[0].name.removeprefix("paused-")) if markers else None


def _message_ids(stack: Stack) -> list[str]:
    return [re.search(rb"^Message-ID: <outbox-(\d+)@", mail, re.MULTILINE).group(1).decode()
            for mail in stack.mails()]


def _queue_drained(stack: Stack) -> bool:
    client = redis.Redis.from_url(stack.redis.url)
    return client.llen("celery") == 0


@pytest.mark.parametrize("victim", ["pool process", "whole worker"])
def test_an_email_interrupted_by_sigkill_is_sent_exactly_once(stack: Stack, victim: str):
    stack.env_overrides.update({
        "OUTBOX_RELAY_SECONDS": "1",
        # A dispatched row still pending this long was lost: seconds here, minutes in production.
        "OUTBOX_REDISPATCH_SECONDS": "3",
    })
    stack.start_web()
    stack.start_worker(pause_mail=True)
    stack.start_beat()

    number = _place_order(stack)
    paused = wait_until(lambda: _paused_pid(stack), timeout=TIMEOUT,
                        what="a worker about to send an e-mail")
    email_ids = [row_id for row_id, _status in _email_rows(stack, number)]
    assert email_ids  # the placement's customer e-mail(s)

    if victim == "pool process":
        os.kill(paused, signal.SIGKILL)  # the worker's main process forks a new one
    else:
        stack.kill("worker")
    assert stack.mails() == []
    (stack.pause_dir / f"paused-{paused}").unlink()
    (stack.pause_dir / "release").touch()
    if victim == "whole worker":
        stack.start_worker("second-worker")

    wait_until(lambda: {status for _id, status in _email_rows(stack, number)} == {"done"},
               timeout=TIMEOUT, what="every e-mail row done")
    # Copies the relay sent while the row was held are run (as no-ops) too.
    wait_until(lambda: _queue_drained(stack), timeout=TIMEOUT, what="the queue drained")
    assert sorted(_message_ids(stack)) == sorted(str(row_id) for row_id in email_ids)
    events = stack.query(
        "SELECT (e.data ->> 'outbox_message_id')::bigint FROM orders_orderevent e"
        " JOIN orders_order o ON o.id = e.order_id WHERE o.number = %s AND e.kind = 'email'"
        " ORDER BY 1", [number])
    assert [row_id for (row_id,) in events] == email_ids
    attempts = stack.query("SELECT attempts FROM oms_outboxmessage WHERE id = ANY(%s)",
                           [email_ids])
    assert {count for (count,) in attempts} == {1}  # the killed run's attempt rolled back
    for name in stack.processes:
        stack.check_alive(name)
