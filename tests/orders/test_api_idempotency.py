# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""Idempotency-Key on POST /api/v1/orders: replay, mismatch, and a real race."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from oms.models import ApiToken, IdempotencyRecord
from orders.models import Order
from tests.orders.capture_support import api, api_token, catalogue, order_body  # noqa: F401


@pytest.mark.django_db
def test_same_key_and_body_replays_the_first_response(api, catalogue):
    first = api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="k-1")
    second = api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.response_status == 201
    assert record.response_body["number"] == first.json()["number"]


@pytest.mark.django_db
def test_key_order_and_whitespace_of_the_body_do_not_matter(api, catalogue, client):
    body = order_body()
    api.post("/orders", body, HTTP_IDEMPOTENCY_KEY="k-2")
    reordered = '{"currency": "EUR", ' + __import__("json").dumps(
        {k: v for k, v in body.items() if k != "currency"})[1:]
    response = client.post("/api/v1/orders", data=reordered, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api.token}", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 201
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_another_body_is_422(api, catalogue):
    api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="k-3")
    other = order_body(lines=[{"sku": "MUG-1", "quantity": 1}])

    response = api.post("/orders", other, HTTP_IDEMPOTENCY_KEY="k-3")

    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["errors"]
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_different_keys_place_different_orders(api, catalogue):
    api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="a")
    api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="b")
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_a_refused_request_releases_its_key_for_a_corrected_retry(api, catalogue):
    too_many = order_body(lines=[{"sku": "MUG-1", "quantity": 500}])
    assert api.post("/orders", too_many, HTTP_IDEMPOTENCY_KEY="k-4").status_code == 409
    assert not IdempotencyRecord.objects.exists()
    # Same key, same body, after a stock receipt: now it goes through.
    from tests.factories.inventory import stock
    stock(catalogue["MUG-1"], catalogue["warehouse"], 500)
    assert api.post("/orders", too_many, HTTP_IDEMPOTENCY_KEY="k-4").status_code == 201


@pytest.mark.django_db
def test_the_key_is_per_token(api, catalogue, client):
    from oms.api import create_api_token
    from oms.models import ApiScope

    _t, other_token = create_api_token(name="erp", scopes=[ApiScope.ORDERS])
    api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="shared")
    response = client.post("/api/v1/orders", data=order_body(), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {other_token}",
                           HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_requests_create_one_order(catalogue, api_token):
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def send():
        try:
            client = Client()
            barrier.wait()
            response = client.post("/api/v1/orders", data=order_body(),
                                   content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {api_token}",
                                   HTTP_IDEMPOTENCY_KEY="race-1")
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == threads_count
    assert Order.objects.count() == 1
    number = Order.objects.get().number
    assert {status for status, _body in results} == {201}
    assert {body["number"] for _status, body in results} == {number}
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_a_claim_abandoned_by_a_dead_request_is_taken_over(api, catalogue):
    from datetime import timedelta

    from django.utils import timezone

    from oms.models import ApiToken

    first = api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="other")
    record = IdempotencyRecord.objects.get(key="other")  # same body, so the same hash
    IdempotencyRecord.objects.create(
        token=ApiToken.objects.get(), key="dead", request_hash=record.request_hash,
        created_at=timezone.now())
    IdempotencyRecord.objects.filter(key="dead").update(
        created_at=timezone.now() - timedelta(minutes=10))

    response = api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="dead")

    assert response.status_code == 201
    assert response.json()["number"] != first.json()["number"]
    assert IdempotencyRecord.objects.get(key="dead").response_status == 201


class ProcessDied(BaseException):
    """The worker killed (SIGKILL, out of memory): nothing after it runs, not
    even `except Exception` or `finally` blocks that catch it."""


def _die() -> None:
    raise ProcessDied


@pytest.mark.django_db(transaction=True)
def test_a_retry_after_the_process_died_right_after_the_commit_replays_the_first_order(
        catalogue, api_token, monkeypatch):
    from datetime import timedelta

    from django.db import transaction
    from django.db.models import F

    import orders.api_v1

    real_capture = orders.api_v1.capture_order

    def capture_then_die_at_commit(*args, **kwargs):
        with transaction.atomic():
            # Registered before the placement's own after-commit work, so it
            # runs first once the outermost transaction has committed.
            transaction.on_commit(_die)
            return real_capture(*args, **kwargs)

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token}", "HTTP_IDEMPOTENCY_KEY": "crash-1"}
    with monkeypatch.context() as patch:
        patch.setattr(orders.api_v1, "capture_order", capture_then_die_at_commit)
        with pytest.raises(ProcessDied):
            client.post("/api/v1/orders", data=order_body(), content_type="application/json",
                        **headers)
    order = Order.objects.get()  # committed before the process died
    record = IdempotencyRecord.objects.get()
    assert (record.response_status, record.completed_at) == (201, None)
    assert record.response_body["number"] == order.number
    # The client retries after its timeout.
    IdempotencyRecord.objects.update(created_at=F("created_at") - timedelta(minutes=1))

    retry = client.post("/api/v1/orders", data=order_body(), content_type="application/json",
                        **headers)

    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["number"] == order.number
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_a_process_dying_before_the_commit_leaves_the_key_free(api, catalogue, monkeypatch):
    import orders.api_v1

    real_capture = orders.api_v1.capture_order

    def capture_then_die(*args, **kwargs):
        real_capture(*args, **kwargs)
        raise ProcessDied

    with monkeypatch.context() as patch:
        patch.setattr(orders.api_v1, "capture_order", capture_then_die)
        with pytest.raises(ProcessDied):
            api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="crash-2")
    assert not Order.objects.exists() and not IdempotencyRecord.objects.exists()

    retry = api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="crash-2")

    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_replayed_answer_carries_the_payment_decision_taken_after_commit(
        catalogue, api_token, monkeypatch):
    from billing.services import run_payment_approval
    from customers.models import Customer
    from orders import payments

    monkeypatch.setattr(payments, "_approver", run_payment_approval)
    customer = Customer.objects.create(name="Ada", email="ada@example.com", standing="trusted")
    customer.api_tokens.add(ApiToken.objects.get(name="webshop"))  # the shop's own customer
    body = order_body(payment={"method": "card", "card_number": "4242424242424242"})
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token}", "HTTP_IDEMPOTENCY_KEY": "paid-1"}

    first = client.post("/api/v1/orders", data=body, content_type="application/json", **headers)
    replay = client.post("/api/v1/orders", data=body, content_type="application/json",
                         **headers)

    assert first.status_code == replay.status_code == 201
    assert first.json()["status"] == "reserved"
    assert replay.json() == first.json()
    assert IdempotencyRecord.objects.get().completed_at is not None
    assert Order.objects.count() == 1
@pytest.mark.django_db(transaction=True)
def test_a_request_cut_off_mid_way_leaves_its_key_free_for_the_retry(api, catalogue):
    """The database connection dies while the order is being placed (a
    restart): the client gets 503, and its retry with the same key places the
    order at once instead of waiting on a claim nobody will finish."""
    import time

    import psycopg

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    outcome: dict = {}

    def send():
        try:
            outcome["response"] = Client().post(
                "/api/v1/orders", data=order_body(), content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {api.token}", HTTP_IDEMPOTENCY_KEY="cut")
        finally:
            connection.close()

    with psycopg.connect(**params) as holder, psycopg.connect(**params, autocommit=True) as dba:
        # The placement will wait on the stock rows this transaction locks...
        holder.execute("SELECT 1 FROM inventory_stocklevel FOR UPDATE")
        request = threading.Thread(target=send)
        request.start()
        deadline = time.monotonic() + 10
        blocked = None
        while blocked is None and time.monotonic() < deadline:
            blocked = dba.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND pid <> pg_backend_pid()").fetchone()
            time.sleep(0.02)
        assert blocked is not None
        # ...where its connection is cut, after the key was claimed.
        dba.execute("SELECT pg_terminate_backend(%s)", blocked)
        request.join(timeout=30)
        holder.rollback()

    assert outcome["response"].status_code == 503
    assert outcome["response"]["Retry-After"]
    assert Order.objects.count() == 0

    retry = api.post("/orders", order_body(), HTTP_IDEMPOTENCY_KEY="cut")

    assert retry.status_code == 201, retry.json()  # not 409 "still being processed"
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="cut").response_status == 201
