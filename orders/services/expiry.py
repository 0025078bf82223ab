"""The expiry sweep: orders whose stock hold lapsed before approval."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import api as inventory_api
from oms.lib import outbox
from orders.models import EventKind, Order, OrderStatus
from orders.services._common import EMAIL_HANDLER

logger = logging.getLogger(__name__)

# One statement: move the given orders that are still waiting for approval
# to 'expired', write their status events, and return each order with its
# previous status. The events come from the UPDATE's own RETURNING, so no
# row travels to Python and back.
_EXPIRE_ORDERS_SQL = """
WITH target AS (
    SELECT id, status AS old_status FROM orders_order
     WHERE id = ANY(%(ids)s) AND status IN ('placed', 'on_hold')
     ORDER BY id
       FOR UPDATE
), expired AS (
    UPDATE orders_order o
       SET status = 'expired', hold_expires_at = NULL, closed_at = %(now)s, updated_at = %(now)s
      FROM target
     WHERE o.id = target.id
    RETURNING o.id, target.old_status
), events AS (
    INSERT INTO orders_orderevent (order_id, kind, actor_id, created_at, from_status,
                                   to_status, reason, data)
    SELECT id, %(kind)s, NULL, %(now)s, old_status, 'expired', %(reason)s, '{}'
      FROM expired
)
SELECT id, old_status FROM expired ORDER BY id
"""


def expire_orders(*, now: datetime | None = None) -> int:
    """Expire the orders whose stock hold lapsed before approval.

    Set-based: lock the candidate orders (one SELECT, id order; waits for an
    approval in flight, which then wins), release every lapsed hold in one
    statement (inventory), move the orders and insert their events in one
    statement, and queue one customer e-mail each (one INSERT).
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
        with connection.cursor() as cursor:
            cursor.execute(_EXPIRE_ORDERS_SQL, {
                "ids": ids, "now": now, "kind": EventKind.STATUS_CHANGED,
                "reason": _("The stock hold lapsed before the payment was approved."),
            })
            expired = cursor.fetchall()
        outbox.enqueue_many(EMAIL_HANDLER, [
            ({"order_id": order_id, "kind": "expired", "reason": ""},
             f"orders:email:{order_id}:expired")
            for order_id, _old in expired
        ])
    return len(expired)
