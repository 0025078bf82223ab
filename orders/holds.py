"""How long an order waits, by why it waits, and whether its stock waits too.

- placed, payment not yet decided: the stock hold of RESERVATION_HOLD_MINUTES
  (set at placement);
- payment_declined: as long as the customer's payment link
  (BILLING_CARD_LINK_MAX_AGE_HOURS);
- prepayment_missing: HOLD_PREPAYMENT_DAYS, with a reminder
  HOLD_PREPAYMENT_REMINDER_DAYS before the end;
- every other reason (REVIEW_HOLDS) waits for a person's decision and never
  lapses; managers are alerted once past HOLD_REVIEW_ALERT_HOURS.

A reason in HOLD_RELEASE_STOCK_REASONS gives the stock back when the wait
begins; approval reserves it again (or backorders the order when short).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from orders.models import HoldReason

# Reasons a person decides: no deadline, the age shows in the approval queue.
REVIEW_HOLDS = (HoldReason.NEW_CUSTOMER, HoldReason.CREDIT_LIMIT, HoldReason.MANUAL,
                HoldReason.LATE_DELIVERY, HoldReason.ACCOUNT_REVIEW)


def hold_duration(reason: str) -> timedelta | None:
    """How long an order held for `reason` waits; None: until decided."""
    if reason == HoldReason.PAYMENT_DECLINED:
        return timedelta(hours=settings.BILLING_CARD_LINK_MAX_AGE_HOURS)
    if reason == HoldReason.PREPAYMENT_MISSING:
        return timedelta(days=settings.HOLD_PREPAYMENT_DAYS)
    return None


def hold_deadline(reason: str, *, now: datetime) -> datetime | None:
    """When an order put on hold for `reason` at `now` lapses; None: never."""
    duration = hold_duration(reason)
    return None if duration is None else now + duration


def releases_stock(reason: str) -> bool:
    """Whether the stock goes back to the shelf while the order waits for `reason`."""
    return reason in settings.HOLD_RELEASE_STOCK_REASONS


def reminder_lead() -> timedelta:
    """How long before a prepayment deadline the customer is reminded."""
    return timedelta(days=settings.HOLD_PREPAYMENT_REMINDER_DAYS)


def review_alert_after() -> timedelta:
    """How long a review may wait before the managers are alerted."""
    return timedelta(hours=settings.HOLD_REVIEW_ALERT_HOURS)
