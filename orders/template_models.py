"""Saved order templates: what a customer orders again and again, kept by
name so the order desk can place it again from the customer card.

Imported by `orders.models` (so Django registers them there); it imports no
other orders module. A template holds products and quantities, never
prices: placing one prices it on the day, like order entry
(`orders.services.templates`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

MAX_TEMPLATE_NAME = 100


class OrderTemplate(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="order_templates", verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=MAX_TEMPLATE_NAME)
    # The currency its orders are priced in (the customer's price lists in it).
    currency = models.CharField(_("currency"), max_length=3)
    # An orders.models.Channel code, the channel its orders are placed through.
    channel = models.CharField(_("channel"), max_length=10)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order template")
        verbose_name_plural = _("order templates")
        ordering = ["customer_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "name"],
                                    name="orders_ordertemplate_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class OrderTemplateLine(models.Model):
    template = models.ForeignKey(OrderTemplate, on_delete=models.CASCADE, related_name="lines",
                                 verbose_name=_("template"))
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("order template line")
        verbose_name_plural = _("order template lines")
        ordering = ["template_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"],
                                    name="orders_ordertemplateline_unique_position"),
            models.UniqueConstraint(fields=["template", "product"],
                                    name="orders_ordertemplateline_unique_product"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="orders_ordertemplateline_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.template}: {self.quantity} × {self.product_id}"
