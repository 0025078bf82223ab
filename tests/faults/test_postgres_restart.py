"""PostgreSQL crashes and comes back while clients place orders through the
API and browse the back office of a running gunicorn.

While it is away every request fails cleanly: 503 with Retry-After, the
translated page or the API's JSON error. Nothing is half written: each
logical order (one Idempotency-Key, retried until accepted) exists once with
its lines and events. The same gunicorn worker serves again once PostgreSQL
is back, on persistent connections (CONN_MAX_AGE) that a restart broke, and
the same Celery worker sends the e-mails of every order.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field

import psutil
import requests

from tests.faults.conftest import Stack, wait_until

API_CLIENTS = 3
PAGE_CLIENTS = 2
# What the French 503 page and API error say (locale/fr/LC_MESSAGES/django.po).
FRENCH_PAGE_TITLE = "Le service est momentanément indisponible"
API_DETAIL_START = "The service is temporarily unavailable."


@dataclass
class Load:
    """What the clients saw, shared between their threads and the test."""

    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)  # ("api" | "page", status)
    successes: Counter = field(default_factory=Counter)  # client name -> 2xx answers
    placed: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> order number
    problems: list[str] = field(default_factory=list)

    def saw(self, kind: str, status: int, client: str) -> None:
        with self.lock:
            self.statuses[kind, status] += 1
            if status < 300:
                self.successes[client] += 1

    def problem(self, message: str) -> None:
        with self.lock:
            self.problems.append(message)

    def count(self, kind: str, status: int) -> int:
        with self.lock:
            return self.statuses[kind, status]


def _check_unavailable(load: Load, kind: str, response: requests.Response) -> None:
    if not response.headers.get("Retry-After", "").isdigit():
        load.problem(f"{kind} 503 without Retry-After: {dict(response.headers)}")
    if kind == "api":
        detail = response.json().get("detail", "")
        if not detail.startswith(API_DETAIL_START):
            load.problem(f"api 503 body: {response.text[:300]}")
    elif FRENCH_PAGE_TITLE not in response.text:
        load.problem(f"page 503 not the translated page: {response.text[:300]}")


def api_client(stack: Stack, load: Load, name: str) -> None:
    """Places orders one after another; a 503 is retried with the same key."""
    session = requests.Session()
    number = 0
    while not load.stop.is_set():
        number += 1
        key = f"{name}-{number}"
        while True:
            try:
                response = stack.place_order(session, f"{key}@example.com", key)
            except requests.RequestException as error:
                load.problem(f"api {key}: {error!r}")
                return
            load.saw("api", response.status_code, name)
            if response.status_code == 201:
                with load.lock:
                    load.placed[key] = response.json()["number"]
                break
            if response.status_code != 503:
                load.problem(f"api {key}: {response.status_code} {response.text[:300]}")
                return
            _check_unavailable(load, "api", response)
            load.stop.wait(0.2)  # a client's pause before its retry


def page_client(stack: Stack, load: Load, name: str) -> None:
    """A signed-in manager reloading the dashboard, in French."""
    session = requests.Session()
    session.cookies.set("sessionid", stack.seed["session_key"])
    while not load.stop.is_set():
        try:
            response = session.get(f"{stack.base_url}/", headers={"Accept-Language": "fr"},
                                   allow_redirects=False, timeout=60)
        except requests.RequestException as error:
            load.problem(f"page: {error!r}")
            return
        load.saw("page", response.status_code, name)
        if response.status_code == 503:
            _check_unavailable(load, "page", response)
        elif response.status_code != 200:
            load.problem(f"page: {response.status_code} {response.headers.get('Location')}")
            return
        load.stop.wait(0.05)


def _gunicorn_workers(stack: Stack) -> set[int]:
    return {child.pid for child in psutil.Process(stack.processes["web"].pid).children()}


def test_requests_fail_cleanly_while_postgres_is_down_and_succeed_after(stack: Stack):
    stack.env_overrides.update({
        # Persistent connections: the restart breaks every one the server holds.
        "CONN_MAX_AGE": "600",
        "OUTBOX_RELAY_SECONDS": "1",
        "OUTBOX_REDISPATCH_SECONDS": "5",
    })
    stack.start_web(threads=API_CLIENTS + PAGE_CLIENTS + 1)
    stack.start_worker()
    stack.start_beat()
    workers = _gunicorn_workers(stack)
    load = Load()
    clients = [threading.Thread(target=api_client, args=(stack, load, f"api{i}"))
               for i in range(API_CLIENTS)]
    clients += [threading.Thread(target=page_client, args=(stack, load, f"page{i}"))
                for i in range(PAGE_CLIENTS)]
    for client in clients:
        client.start()
    try:
        wait_until(lambda: len(load.placed) >= 10 or load.problems, timeout=120,
                   what="orders placed before the crash")
        # A crash, not a tidy shutdown: open transactions are cut off.
        stack.postgres.stop("immediate")
        wait_until(lambda: (load.count("api", 503) >= 3 and load.count("page", 503) >= 3)
                   or load.problems, timeout=60, what="503 answers while PostgreSQL is down")
        stack.postgres.start()
        with load.lock:
            before = dict(load.successes)
        wait_until(lambda: all(load.successes[name] >= before.get(name, 0) + 3
                               for name in [*(f"api{i}" for i in range(API_CLIENTS)),
                                            *(f"page{i}" for i in range(PAGE_CLIENTS))])
                   or load.problems, timeout=120, what="every client served again")
    finally:
        load.stop.set()
        for client in clients:
            client.join(timeout=90)

    assert load.problems == []
    assert load.count("api", 500) == load.count("page", 500) == 0
    stack.check_alive("web")
    assert _gunicorn_workers(stack) == workers  # recovered in place, not restarted

    placed_numbers = sorted(load.placed.values())
    assert len(set(placed_numbers)) == len(placed_numbers)
    stored = stack.query("SELECT number FROM orders_order ORDER BY number")
    assert [number for (number,) in stored] == placed_numbers  # once each, none extra
    half_written = stack.query(
        "SELECT o.number FROM orders_order o"
        " WHERE NOT EXISTS (SELECT 1 FROM orders_orderline l WHERE l.order_id = o.id)"
        "    OR NOT EXISTS (SELECT 1 FROM orders_orderevent e WHERE e.order_id = o.id"
        "                   AND e.kind = 'created')")
    assert half_written == []

    # The worker recovered too: every customer e-mail row is done, each
    # recorded once on its order. (The mail itself is at least once: a crash
    # between the hand-over and the commit sends it again, same Message-ID.)
    wait_until(lambda: {status for (status,) in stack.query(
        "SELECT status FROM oms_outboxmessage WHERE handler = 'orders.send_order_email'")}
        == {"done"}, timeout=120, what="every e-mail row done")
    email_ids = [row_id for (row_id,) in stack.query(
        "SELECT id FROM oms_outboxmessage WHERE handler = 'orders.send_order_email' ORDER BY id")]
    recorded = stack.query("SELECT (data ->> 'outbox_message_id')::bigint FROM orders_orderevent"
                           " WHERE kind = 'email' ORDER BY 1")
    assert [row_id for (row_id,) in recorded] == email_ids
    sent = {int(match.group(1)) for mail in stack.mails()
            for match in [re.search(rb"^Message-ID: <outbox-(\d+)@", mail, re.MULTILINE)]
            if match}
    assert sent == set(email_ids)
    for name in stack.processes:
        stack.check_alive(name)
