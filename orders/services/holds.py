"""The once-per-hold messages of long waits (orders.holds): the customer's
reminder before a prepayment deadline, and the managers' alert for a review
waiting past its threshold. Set-based, run by a beat task."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from oms.lib import outbox
from orders import holds
from orders.models import HoldReason, Order, OrderStatus
from orders.services._common import EMAIL_HANDLER

REVIEW_ALERT_HANDLER = "orders.alert_managers_of_review"


def _claim(filters: dict, *, field: str, now: datetime) -> list[Order]:
    """Lock the due orders (id order, skipping those another transaction
    holds: they are decided right now) and mark them as sent, so a second
    run or a concurrent one finds nothing left to send."""
    due = list(Order.objects.select_for_update(of=("self",), skip_locked=True)
               .filter(**filters, **{f"{field}__isnull": True})
               .order_by("pk").only("pk", "held_since"))
    if due:
        Order.objects.filter(pk__in=[order.pk for order in due]).update(
            **{field: now, "updated_at": now})
    return due


def send_prepayment_reminders(*, now: datetime | None = None) -> int:
    """Remind each customer whose prepayment deadline is near, once per wait;
    the e-mail states the deadline."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        due = _claim({"status": OrderStatus.ON_HOLD,
                      "hold_reason": HoldReason.PREPAYMENT_MISSING,
                      "hold_expires_at__gt": now,
                      "hold_expires_at__lte": now + holds.reminder_lead()},
                     field="hold_reminded_at", now=now)
        outbox.enqueue_many(EMAIL_HANDLER, [
            ({"order_id": order.pk, "kind": "prepayment_reminder", "reason": ""},
             f"orders:email:{order.pk}:prepayment_reminder:{_wait_key(order)}")
            for order in due])
    return len(due)


def alert_managers_of_long_reviews(*, now: datetime | None = None) -> int:
    """Alert the managers, once per wait, of each order a person has been
    reviewing for longer than HOLD_REVIEW_ALERT_HOURS."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        due = _claim({"status": OrderStatus.ON_HOLD, "hold_reason__in": holds.REVIEW_HOLDS,
                      "held_since__lte": now - holds.review_alert_after()},
                     field="hold_alerted_at", now=now)
        outbox.enqueue_many(REVIEW_ALERT_HANDLER, [
            ({"order_id": order.pk}, f"orders:review-alert:{order.pk}:{_wait_key(order)}")
            for order in due])
    return len(due)


def _wait_key(order: Order) -> str:
    return order.held_since.isoformat() if order.held_since else "-"
