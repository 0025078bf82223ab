"""The expiry sweep: orders whose stock hold lapsed before approval."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from inventory import api as inventory_api
from oms.lib import outbox
from orders.models import Order, OrderStatus, StatusCause
from orders.services._common import EMAIL_HANDLER, bulk_transition

logger = logging.getLogger(__name__)


def expire_orders(*, now: datetime | None = None) -> int:
    """Expire the orders whose stock hold lapsed before approval.

    Set-based: lock the candidate orders (one SELECT, id order; waits for an
    approval in flight, which then wins), release every lapsed hold in one
    statement (inventory), move the orders and insert their events in one
    statement (`bulk_transition`), and queue one customer e-mail each (one
    INSERT).
    """
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        candidates = list(
            Order.objects.select_for_update(of=("self",))
            .filter(status__in=[OrderStatus.PLACED, OrderStatus.ON_HOLD],
                    hold_expires_at__lte=now)
            .order_by("pk").values_list("pk", flat=True)
        )
        lapsed = inventory_api.expire_lapsed_holds(now=now)
        stray = set(lapsed) - set(candidates)
        if stray:
            logger.warning("expiry: holds lapsed for orders not due by hold_expires_at: %s",
                           sorted(stray)[:20])
        ids = sorted(set(candidates) | set(lapsed))
        if not ids:
            return 0
        expired = bulk_transition(
            order_ids=ids, transition="expire", now=now,
            fields={"hold_expires_at": None, "closed_at": now},
            data={"cause": StatusCause.HOLD_LAPSED})
        outbox.enqueue_many(EMAIL_HANDLER, [
            ({"order_id": order_id, "kind": "expired", "reason": ""},
             f"orders:email:{order_id}:expired")
            for order_id, _old in expired
        ])
    return len(expired)
