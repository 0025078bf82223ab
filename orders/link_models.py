"""The customer's link to their order page (`/o/<token>/`). Registered with
the orders app by `orders.models`; see `orders.links`."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrderLink(models.Model):
    """One secret link to an order's customer page. The token is not stored:
    it is an HMAC of `salt` under SECRET_KEY, so every e-mail of the order
    rebuilds the same link, and the page finds it by the token's SHA-256
    (`orders.links`). A copy of the database alone opens no page."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="links",
                              verbose_name=_("order"))
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    salt = models.CharField(_("salt"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order link")
        verbose_name_plural = _("order links")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live (not revoked) link per order.
            models.UniqueConstraint(fields=["order"], condition=models.Q(revoked_at__isnull=True),
                                    name="orders_orderlink_one_live_per_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} · {self.created_at:%Y-%m-%d}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
