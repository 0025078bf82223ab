import pytest
from django.db import transaction

from oms.lib import events, outbox
from oms.models import OutboxMessage

received: list[dict] = []


@outbox.handler("tests.events.first")
def _first(payload):
    received.append({"to": "first", **payload})


@outbox.handler("tests.events.second")
def _second(payload):
    received.append({"to": "second", **payload})


@pytest.fixture(autouse=True)
def _subscribers(monkeypatch):
    monkeypatch.setattr(events, "_SUBSCRIBERS", {})
    events.subscribe("thing.happened", "tests.events.first")
    events.subscribe("thing.happened", "tests.events.second")
    received.clear()


@pytest.mark.django_db(transaction=True)
def test_each_subscriber_gets_its_own_outbox_row_run_after_commit():
    with transaction.atomic():
        assert events.publish("thing.happened", {"id": 7}) == 2
        assert received == []  # nothing runs before the commit
    assert sorted(r["to"] for r in received) == ["first", "second"]
    assert all(r["event"] == "thing.happened" and r["id"] == 7 for r in received)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_publish_reaches_nobody():
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish("thing.happened", {"id": 8})
        raise RuntimeError("business rule failed")
    assert received == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_publishing_twice_with_one_key_reaches_each_subscriber_once():
    for _ in range(2):
        with transaction.atomic():
            events.publish("thing.happened", {"id": 9}, dedup_key="order-9")
    assert sorted(r["to"] for r in received) == ["first", "second"]


@pytest.mark.django_db
def test_an_event_nobody_listens_to_writes_nothing():
    with transaction.atomic():
        assert events.publish("nobody.cares", {"id": 1}) == 0
    assert not OutboxMessage.objects.exists()
