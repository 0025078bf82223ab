"""Domain events: how a lower app tells higher apps that something happened.

`orders` must not import `billing` or `fulfillment`. When it has news (an
order shipped), it calls `publish("order.shipped", {...})` inside its
transaction; every subscriber registered for that event gets its own outbox
row, so each reaction runs after commit, at least once, independently of the
others. Subscribers register in their AppConfig.ready():

    events.subscribe("order.shipped", "billing.issue_invoice_for_order")

where the second name is an outbox handler (see oms.lib.outbox.handler).
"""

from __future__ import annotations

from oms.lib import outbox

_SUBSCRIBERS: dict[str, list[str]] = {}


def subscribe(event: str, handler_name: str) -> None:
    handlers = _SUBSCRIBERS.setdefault(event, [])
    if handler_name not in handlers:
        handlers.append(handler_name)


def subscribers(event: str) -> list[str]:
    return list(_SUBSCRIBERS.get(event, []))


def messages(event: str, payload: dict, *, dedup_key: str | None = None
             ) -> list[tuple[str, dict, str | None]]:
    """The outbox rows `publish` would write, as `outbox.enqueue_each` takes
    them, for a service that writes them in one INSERT with its own rows."""
    return [(handler_name, {**payload, "event": event},
             f"{event}:{handler_name}:{dedup_key}" if dedup_key else None)
            for handler_name in subscribers(event)]


def publish(event: str, payload: dict, *, dedup_key: str | None = None) -> int:
    """Queue `event` for every subscriber; returns how many rows were written.

    With a `dedup_key`, publishing the same event twice (a retried service)
    reaches each subscriber once.
    """
    written = 0
    for handler_name, message, key in messages(event, payload, dedup_key=dedup_key):
        if outbox.enqueue(handler_name, message, dedup_key=key):
            written += 1
    return written
