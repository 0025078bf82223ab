"""Writes of product costs (what a unit costs us per currency of purchase),
for the margin. The back office sets or removes one currency's cost at a time."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BeforeValidator

from inventory.models import Product, ProductCost
from oms.lib import audit
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.validation import Input


def _currency(value: Any) -> str:
    if not isinstance(value, str) or value not in settings.CURRENCIES:
        raise ValueError(_("Unknown currency %(currency)s; use one of %(allowed)s.")
                         % {"currency": value, "allowed": ", ".join(settings.CURRENCIES)})
    return value


def _cost(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, float | bool):
            raise ValueError
        amount = Decimal(str(value))
        if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12") \
                or amount != amount.quantize(Decimal("0.01")):
            raise ValueError
    except (ArithmeticError, ValueError):
        raise ValueError(_("Enter an amount of zero or more with at most two decimals.")) \
            from None
    return amount


class ProductCostInput(Input):
    """One currency's unit cost; no cost (None) removes it."""

    currency: Annotated[str, BeforeValidator(_currency)]
    cost: Annotated[Decimal | None, BeforeValidator(_cost)] = None

    error_message = gettext_lazy("Please correct the cost.")


def set_product_cost(*, product_id: int, data: dict[str, Any], actor: Actor
                     ) -> ProductCost | None:
    """Set (or with no cost, remove) the product's unit cost in one currency.
    Orders already placed keep the cost they were placed with."""
    cost = ProductCostInput.parse(data)
    with transaction.atomic(durable=True):
        product = Product.objects.filter(pk=product_id).only("pk", "sku").first()
        if product is None:
            message = _("This product does not exist.")
            raise ApplicationError(message, field_errors={"product": [message]},
                                   code="not_found")
        # Locked so the audit's "before" is the cost this one replaces.
        current = (ProductCost.objects.select_for_update()
                   .filter(product_id=product_id, currency=cost.currency).first())
        before = current.cost if current is not None else None
        row = None
        if cost.cost is None:
            if current is not None:
                current.delete()
        else:
            row, _created = ProductCost.objects.update_or_create(
                product_id=product_id, currency=cost.currency, defaults={"cost": cost.cost})
        kind = (audit.Kind.CREATED if current is None else
                audit.Kind.DELETED if row is None else audit.Kind.CHANGED)
        audit.record_changes(row or current or ProductCost(product=product), on=product,
                             object_label=f"{product.sku} · {cost.currency}", actor=actor,
                             kind=kind,
                             changes={"cost": (before, cost.cost)} if current or row else {})
        return row
