"""Sending a customer's last e-mail about an order again (it failed, or the
customer lost it)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import NotAllowed
from oms.models import OutboxMessage
from orders.models import EventKind, OrderEvent
from orders.services._common import lock_order

# The outbox handlers that e-mail the customer about one order (payload
# "order_id"); billing adds its own at start-up (register_customer_email_handler).
CUSTOMER_EMAIL_HANDLERS: set[str] = {"orders.send_order_email",
                                     "orders.send_return_instructions"}


def register_customer_email_handler(name: str) -> None:
    CUSTOMER_EMAIL_HANDLERS.add(name)


def last_customer_email(order_id: int) -> OutboxMessage | None:
    """The outbox row of the order's latest customer e-mail: the last one sent
    (the timeline names its row) or a later one that failed."""
    sent = (OrderEvent.objects.filter(order_id=order_id, kind=EventKind.EMAIL)
            .order_by("-created_at", "-id").values_list("data__outbox_message_id", flat=True)
            .first())
    failed = (OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED,
                                           handler__in=sorted(CUSTOMER_EMAIL_HANDLERS),
                                           payload__order_id=order_id)
              .order_by("-id").values_list("pk", flat=True).first())
    candidates = [pk for pk in (sent, failed) if pk is not None]
    if not candidates:
        return None
    return OutboxMessage.objects.filter(pk=max(candidates)).first()


def resend_last_customer_email(*, order_id: int, actor: Actor) -> OutboxMessage:
    """Queue the order's latest customer e-mail again, as it was written
    (same kind, reason, attachments); the timeline records it once sent."""
    with transaction.atomic(durable=True):
        order = lock_order(order_id=order_id)
        last = last_customer_email(order.pk)
        if last is None:
            raise NotAllowed(_("No e-mail was sent to the customer about this order yet."),
                             code="no_email")
        payload = {key: value for key, value in last.payload.items()
                   if key != "outbox_message_id"}
        row = outbox.enqueue(last.handler, payload)
        assert row is not None  # no dedup key: always written
    return row
