"""The customer's order page link: one live link per order, carried by every
customer e-mail, expiring after ORDER_LINK_MAX_AGE_DAYS, revocable by staff.

The raw token is an HMAC of the link's random salt under SECRET_KEY; the
database keeps the salt and the token's SHA-256, which the page looks up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from orders.link_models import OrderLink
from orders.models import Order


def _token_of(salt: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"order-link:{salt}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live_link(order_id: int) -> OrderLink | None:
    """The order's link the next e-mail carries, if it has one."""
    return (OrderLink.objects.filter(order_id=order_id, revoked_at__isnull=True,
                                     expires_at__gt=timezone.now()).first())


def live_link_token(order: Order) -> str:
    """The token of the order's live link, making one when there is none
    (the first e-mail, or after expiry or revocation)."""
    link = live_link(order.pk)
    if link is None:
        now = timezone.now()
        salt = secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                # An expired link no longer counts as the live one.
                OrderLink.objects.filter(order_id=order.pk, revoked_at__isnull=True).update(
                    revoked_at=now)
                link = OrderLink.objects.create(
                    order_id=order.pk, salt=salt, token_hash=hash_token(_token_of(salt)),
                    created_at=now,
                    expires_at=now + timedelta(days=settings.ORDER_LINK_MAX_AGE_DAYS))
        except IntegrityError:  # made by a concurrent e-mail: use that one
            link = live_link(order.pk)
            if link is None:
                raise
    return _token_of(link.salt)


def order_page_url(order: Order) -> str:
    """The absolute address of the order's customer page."""
    return settings.SITE_URL.rstrip("/") + reverse(
        "customer_order_page", kwargs={"token": live_link_token(order)})


def order_for_token(token: str) -> Order | None:
    """The order of a live link; None for a wrong, expired or revoked token."""
    if not token or len(token) > 128:
        return None
    link = (OrderLink.objects.select_related("order", "order__customer")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True,
                    expires_at__gt=timezone.now()).first())
    if link is None or not hmac.compare_digest(_token_of(link.salt), token):
        return None
    return link.order


def revoke_order_links(*, order_id: int, actor: object) -> int:
    """Revoke the order's live link; the next customer e-mail makes a new one.
    Returns how many links were revoked (0 or 1)."""
    with transaction.atomic(durable=True):
        return OrderLink.objects.filter(order_id=order_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
