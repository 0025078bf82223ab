"""After shipment: parcels arriving, and the customer's rating of the order.

Fulfillment calls `record_parcel_delivered` inside its own transaction, with
the order row locked first (the lock order), once per parcel: when the
shipment's delivery is confirmed (by the carrier or by a person). The
customer's "delivered" e-mail goes out once per parcel (its outbox key);
when the last parcel arrives the order is marked delivered and the customer
is asked, once per order, to rate it: in that same e-mail when
FEEDBACK_REQUEST_DELAY_HOURS is 0, else in a "How was your order?" e-mail
that the outbox relay sends that many hours later.

`submit_feedback` is the customer's answer from their order page: one per
order, which the customer may correct for `FEEDBACK_EDIT_WINDOW` after
first sending it; later attempts are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import NotAllowed
from orders import events as order_events
from orders.feedback_models import OrderFeedback
from orders.inputs import FeedbackInput
from orders.models import Order
from orders.services._common import EMAIL_HANDLER, lock_order

FEEDBACK_EDIT_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class DeliveredParcel:
    """One parcel of the order that arrived, as the customer's e-mail names it."""

    shipment_id: int
    number: str
    lines: tuple[tuple[str, str, int], ...]  # (sku, name, quantity)


def feedback_request_key(order_id: int) -> str:
    """The outbox key of the one request per order to rate it."""
    return f"orders:email:{order_id}:feedback_request"


def record_parcel_delivered(*, order_id: int, parcel: DeliveredParcel, several: bool,
                            every_parcel: list[str] | None, actor: Actor) -> Order:
    """A parcel of the order arrived: the customer hears it once per parcel
    (named with its items when the order has `several`). `every_parcel`: the
    numbers of all the order's parcels when this one was the last to arrive
    and nothing is left to ship, else None; the order is then delivered and
    the customer asked to rate it (once per order, whatever the repeats)."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        ask_now = False
        if every_parcel is not None and not order.is_delivered:
            order.delivered_at = timezone.now()
            order.save(update_fields=["delivered_at", "updated_at"])
            order_events.order_delivered(order, actor=actor, shipments=every_parcel)
            delay = timedelta(hours=settings.FEEDBACK_REQUEST_DELAY_HOURS)
            if delay:
                outbox.enqueue(EMAIL_HANDLER, {"order_id": order.pk, "kind": "feedback_request"},
                               dedup_key=feedback_request_key(order.pk),
                               not_before=order.delivered_at + delay)
            else:
                ask_now = True
        outbox.enqueue(EMAIL_HANDLER, {
            "order_id": order.pk, "kind": "delivered", "reason": "",
            "extra": {"shipment": parcel.number, "several": several, "ask_feedback": ask_now,
                      "lines": [{"sku": sku, "name": name, "quantity": quantity}
                                for sku, name, quantity in parcel.lines]}},
            dedup_key=f"orders:email:{order.pk}:delivered:{parcel.shipment_id}")
    return order


def may_give_feedback(order: Order, feedback: OrderFeedback | None) -> bool:
    """The order page offers the form: delivered, and not answered yet or
    still within the time to correct the answer."""
    if not order.is_delivered:
        return False
    return feedback is None or timezone.now() < feedback.submitted_at + FEEDBACK_EDIT_WINDOW


def submit_feedback(*, order_id: int, data: FeedbackInput, language: str,
                    actor: Actor) -> OrderFeedback:
    """The customer's rating and comment of a delivered order. A second
    answer within FEEDBACK_EDIT_WINDOW of the first replaces it; after
    that, or before delivery, it is refused (NotAllowed) and nothing changes.
    Two answers at once queue on the order row: the second edits the first."""
    with transaction.atomic(durable=True):
        order = lock_order(order_id=order_id)
        if not order.is_delivered:
            raise NotAllowed(_("You can rate the order once it has been delivered."),
                             code="not_delivered")
        now = timezone.now()
        feedback = OrderFeedback.objects.filter(order=order).first()
        if feedback is None:
            return OrderFeedback.objects.create(
                order=order, rating=data.rating, comment=data.comment, language=language,
                submitted_at=now, updated_at=now)
        if not may_give_feedback(order, feedback):
            raise NotAllowed(_("Thank you, we already have your rating of this order."),
                             code="feedback_closed")
        feedback.rating, feedback.comment = data.rating, data.comment
        feedback.language, feedback.updated_at = language, now
        feedback.save(update_fields=["rating", "comment", "language", "updated_at"])
    return feedback
