"""Price lists: what a product costs in one currency, for everyone (the
catalogue default), a customer group or one customer, between two dates,
with quantity breaks. `orders.pricing` reads them at placement;
`orders.services.price_lists` writes them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, CustomerGroup
from inventory.models import Product


class PriceScope(models.IntegerChoices):
    """How specific a list is; the higher wins."""

    DEFAULT = 1, _("Catalogue default")
    GROUP = 2, _("Customer group")
    CUSTOMER = 3, _("Customer")


class PriceList(models.Model):
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3)
    # Neither: the catalogue default for the currency; never both.
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="price_lists")
    customer_group = models.ForeignKey(CustomerGroup, verbose_name=_("customer group"),
                                       null=True, blank=True, on_delete=models.CASCADE,
                                       related_name="price_lists")
    # Inclusive; open-ended when empty. Lists of one scope never overlap.
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["currency", "customer_id", "customer_group_id", "valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(customer_group__isnull=True),
                name="orders_pricelist_one_scope"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="orders_pricelist_valid_period"),
        ]
        indexes = [models.Index(fields=["currency", "customer", "customer_group"],
                                name="orders_pricelist_scope_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"

    @property
    def scope(self) -> PriceScope:
        if self.customer_id:
            return PriceScope.CUSTOMER
        if self.customer_group_id:
            return PriceScope.GROUP
        return PriceScope.DEFAULT


class PriceListEntry(models.Model):
    """The unit price of a product on a list from `min_quantity` units a line."""

    price_list = models.ForeignKey(PriceList, verbose_name=_("price list"),
                                   on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="+")
    min_quantity = models.PositiveIntegerField(_("from quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["price_list", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product", "min_quantity"],
                                    name="orders_pricelistentry_break_uniq"),
            models.CheckConstraint(condition=Q(unit_price__gt=0),
                                   name="orders_pricelistentry_price_positive"),
            models.CheckConstraint(condition=Q(min_quantity__gte=1),
                                   name="orders_pricelistentry_min_quantity_gte_1"),
        ]
        indexes = [models.Index(fields=["product", "price_list"],
                                name="orders_priceentry_product_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} ≥{self.min_quantity}: {self.unit_price}"
