"""The notice rule model (see `orders.notices`). Registered with the orders
app by `orders.models`; it imports nothing of that module."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import CustomerGroup


class NoticeRule(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="notice_rules", verbose_name=_("user"))
    role = models.ForeignKey(Group, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+", verbose_name=_("role"))
    # Empty: every channel.
    # Channel codes (orders.models.Channel; checked by NoticeRuleInput).
    channels = ArrayField(models.CharField(max_length=10),
                          default=list, blank=True, verbose_name=_("channels"))
    min_total = models.DecimalField(_("minimum total"), max_digits=14, decimal_places=2,
                                    null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    customer_group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE, null=True,
                                       blank=True, related_name="+",
                                       verbose_name=_("customer group"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice rule")
        verbose_name_plural = _("notice rules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False, role__isnull=True)
                           | models.Q(user__isnull=True, role__isnull=False)),
                name="orders_noticerule_user_or_role"),
            models.CheckConstraint(
                condition=models.Q(min_total__isnull=True) | ~models.Q(currency=""),
                name="orders_noticerule_amount_currency"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.role}: {', '.join(self.channels) or '*'}"
