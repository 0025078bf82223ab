"""Reads of billing: the approval queue and an order's payments."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from billing.models import Payment
from orders.models import Order, OrderStatus


def placed_grace() -> timedelta:
    return timedelta(minutes=getattr(settings, "BILLING_QUEUE_PLACED_GRACE_MINUTES", 5))


def approval_queue(*, now: datetime | None = None) -> QuerySet[Order]:
    """Orders waiting for a person's decision, oldest first.

    Every order on hold, plus orders still `placed` after the grace period:
    their automatic approval never finished (provider down, a crash), so a
    person must decide. Payments come prefetched, newest first, for the
    "why" column.
    """
    cutoff = (now or timezone.now()) - placed_grace()
    return (
        Order.objects.filter(Q(status=OrderStatus.ON_HOLD)
                             | Q(status=OrderStatus.PLACED, placed_at__lt=cutoff))
        .select_related("customer")
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("-id"),
                                   to_attr="payments_newest_first"))
        .order_by("placed_at", "id")
    )


def payments_of_order(*, order_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(order_id=order_id).order_by("-id")
