"""Redis, the Celery broker, goes away for a minute while clients place orders
through the API of a running gunicorn, with a Celery worker and beat.

Redis is killed, not shut down, and keeps nothing on disk: the tasks queued
when it died are lost with it. No placement fails (the outbox row is written
with the order; a publish that cannot reach the broker gives up quickly and
leaves the row to the relay), and once Redis is back every customer e-mail of
every order is sent exactly once: the relay re-publishes what was never
published or was lost, the runner's claim turns any extra copy into a no-op.

FAULT_REDIS_OUTAGE_SECONDS sets how long Redis stays away (60 by default,
the outage the product is specified to survive).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter

import requests

from tests.faults.conftest import Stack, wait_until

OUTAGE_SECONDS = float(os.environ.get("FAULT_REDIS_OUTAGE_SECONDS", "60"))
CLIENTS = 4


def place_orders(stack: Stack, stop: threading.Event, placed: list[str], problems: list[str],
                 name: str) -> None:
    session = requests.Session()
    number = 0
    while not stop.is_set():
        number += 1
        key = f"{name}-{number}"
        try:
            response = stack.place_order(session, f"{key}@example.com", key)
        except requests.RequestException as error:
            problems.append(f"{key}: {error!r}")
            return
        if response.status_code != 201:
            problems.append(f"{key}: {response.status_code} {response.text[:300]}")
            return
        placed.append(response.json()["number"])
        stop.wait(0.1)  # a storefront's pace, not a benchmark


def _email_rows(stack: Stack) -> list[tuple[int, str]]:
    return stack.query("SELECT id, status FROM oms_outboxmessage"
                       " WHERE handler = 'orders.send_order_email' ORDER BY id")


def _sent_message_ids(stack: Stack) -> Counter:
    return Counter(int(match.group(1)) for mail in stack.mails()
                   for match in [re.search(rb"^Message-ID: <outbox-(\d+)@", mail, re.MULTILINE)]
                   if match)


def test_no_order_fails_and_every_email_goes_out_once_after_a_redis_outage(stack: Stack):
    stack.env_overrides.update({
        "OUTBOX_RELAY_SECONDS": "2",
        # Rows published just before Redis died were lost with it: re-sent
        # after this long (minutes in production, seconds here).
        "OUTBOX_REDISPATCH_SECONDS": "10",
    })
    stack.start_web()
    stack.start_worker()
    stack.start_beat()

    stop = threading.Event()
    placed: list[str] = []
    problems: list[str] = []
    clients = [threading.Thread(target=place_orders, args=(stack, stop, placed, problems,
                                                           f"client{i}"))
               for i in range(CLIENTS)]
    for client in clients:
        client.start()
    try:
        wait_until(lambda: len(placed) >= 10 or problems, timeout=120,
                   what="orders placed before the outage")
        stack.redis.stop()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        during_outage = len(placed)
        wait_until(lambda: (time.monotonic() >= outage_ends
                            and len(placed) >= during_outage + 10) or problems,
                   timeout=OUTAGE_SECONDS + 120, what="the outage to last its time")
        assert problems == []
        placed_during_outage = len(placed) - during_outage
        stack.redis.start()
        after_outage = len(placed)
        wait_until(lambda: len(placed) >= after_outage + 10 or problems, timeout=120,
                   what="orders placed after the outage")
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=90)

    assert problems == []
    assert placed_during_outage >= 10
    [(orders,)] = stack.query("SELECT count(*) FROM orders_order")
    assert orders == len(placed) == len(set(placed))

    # Every e-mail row (at least one per order) done, none failed.
    wait_until(lambda: {status for _id, status in _email_rows(stack)} == {"done"},
               timeout=180, what="every e-mail sent")
    email_ids = [row_id for row_id, _status in _email_rows(stack)]
    [(orders_with_email,)] = stack.query(
        "SELECT count(DISTINCT (payload ->> 'order_id')) FROM oms_outboxmessage"
        " WHERE handler = 'orders.send_order_email'")
    assert orders_with_email == orders
    wait_until(lambda: sorted(_sent_message_ids(stack)) == email_ids, timeout=60,
               what="one message per e-mail row in the mailbox")
    assert set(_sent_message_ids(stack).values()) == {1}  # none twice
    for name in stack.processes:
        stack.check_alive(name)
