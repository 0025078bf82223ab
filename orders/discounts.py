"""Discounts on an order: on a line, on the order, and by a discount code.

A discount is entered as text everywhere (form, API, CSV): "10%" is a
percentage, "5.00" an amount in the order's currency, net of tax. The
order's discounts (by hand and the code's) are shared over the goods lines in
proportion to their value, to the cent (largest remainder), so each tax
rate's base is reduced by exactly its part and every total stays the sum of
its lines.

Manual discounts (lines and order) above the entering person's limit
(`settings.ORDER_DISCOUNT_LIMITS`: role -> percent of the goods' value)
still place the order; payment approval then holds it for a manager
(`HoldReason.DISCOUNT_LIMIT`). A code's discount is agreed beforehand and
counts against no limit.

Codes are checked and redeemed inside the placement's transaction with the
code's row locked (`select_for_update`), so concurrent placements with the
same code are decided one after another and the last use goes to one order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.lib.actors import Actor
from oms.lib.money import CENT, ZERO, format_money, quantize_money
from orders.models import CLOSED, DiscountCode, DiscountKind, DiscountRedemption, Order

HUNDRED = Decimal(100)
MAX_CODE = 40  # DiscountCode.code
_DISCOUNT = re.compile(r"^\s*(\d{1,12}(?:[.,]\d{1,2})?)\s*(%?)\s*$")


@dataclass(frozen=True)
class Discount:
    """As entered: a percentage, or (percent None) an amount."""

    percent: Decimal | None = None
    amount: Decimal = ZERO

    def __str__(self) -> str:
        return f"{self.percent}%" if self.percent is not None else str(self.amount)

    def off(self, value: Decimal) -> Decimal:
        """The amount off `value`, rounded once."""
        if self.percent is not None:
            return quantize_money(value * self.percent / HUNDRED)
        return self.amount


def parse_discount(value: Any) -> Discount | None:
    """"10%" or "5.00" (a comma works too); blank: none. ValueError with
    the message a person reads."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Discount):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        # xgettext:no-python-format
        raise ValueError(_("Enter a percentage such as 10% or an amount such as 5.00."))
    text = str(value)
    if text.strip().startswith("-"):
        raise ValueError(_("A discount cannot be negative."))
    match = _DISCOUNT.match(text)
    if not match:
        # xgettext:no-python-format
        raise ValueError(_("Enter a percentage such as 10% or an amount such as 5.00."))
    try:
        number = Decimal(match.group(1).replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        # xgettext:no-python-format
        raise ValueError(_("Enter a percentage such as 10% or an amount such as 5.00.")) \
            from None
    if match.group(2):
        if number > HUNDRED:
            raise ValueError(_("A discount cannot be more than 100%."))
        return Discount(percent=number.quantize(CENT)) if number else None
    return Discount(amount=number.quantize(CENT)) if number else None


def discount_text(value: Any) -> str | None:
    """The input validators' form of `parse_discount`: the text, normalised."""
    parsed = parse_discount(value)
    return str(parsed) if parsed else None


def allocate(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Share `amount` over `weights` in proportion, in cents, summing exactly
    (largest remainder; ties to the earlier line)."""
    total = sum(weights, ZERO)
    if not amount or not total:
        return [ZERO for _w in weights]
    exact = [amount * weight / total for weight in weights]
    shares = [value.quantize(CENT, rounding=ROUND_DOWN) for value in exact]
    left = int((amount - sum(shares, ZERO)) / CENT)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[:left]:
        shares[index] += CENT
    return shares


def limit_percent(actor: Actor) -> Decimal | None:
    """The manual discount `actor` may give, in percent of the goods; None:
    no limit (superusers). The system (API, scheduled imports) may give none
    without a manager."""
    if actor is None:
        return ZERO
    if actor.is_superuser:
        return None
    limits = {role: Decimal(str(limit))
              for role, limit in getattr(settings, "ORDER_DISCOUNT_LIMITS", {}).items()}
    roles = set(actor.groups.values_list("name", flat=True))
    return max((limit for role, limit in limits.items() if role in roles), default=ZERO)


@dataclass
class LineDiscount:
    percent: Decimal | None
    discount: Decimal  # the line's own
    order_discount: Decimal = ZERO  # its share of the order's and the code's


@dataclass
class Discounts:
    """The discounts of one order, resolved to amounts."""

    lines: list[LineDiscount]
    order_percent: Decimal | None = None
    order_amount: Decimal = ZERO
    code: DiscountCode | None = None
    code_amount: Decimal = ZERO
    limit: Decimal | None = None  # the manual discount the enterer may give
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def manual(self) -> Decimal:
        return sum((line.discount for line in self.lines), ZERO) + self.order_amount

    @property
    def total(self) -> Decimal:
        return self.manual + self.code_amount

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.manual > self.limit

    def apply_to(self, order: Order) -> None:
        order.discount_percent = self.order_percent
        order.discount_amount = self.order_amount
        order.code_discount = self.code_amount
        order.discount_total = self.total
        order.discount_limit = self.limit
        order.discount_over_limit = self.over_limit


def resolve(*, list_nets: list[Decimal], line_discounts: list[Discount | None],
            order_discount: Discount | None, code: str, customer_id: int, currency: str,
            actor: Actor, exclude_order_id: int | None = None) -> Discounts:
    """Every discount of an order as amounts, with field errors (`lines.0.discount`,
    `discount`, `discount_code`) instead of raising. Call it inside the
    placement's transaction: a code's row stays locked until commit."""
    errors: dict[str, list[str]] = {}
    lines = []
    for index, (list_net, spec) in enumerate(zip(list_nets, line_discounts, strict=True)):
        off = spec.off(list_net) if spec else ZERO
        if off > list_net:
            errors[f"lines.{index}.discount"] = [
                _("At most %(max)s off this line.") % {"max": format_money(list_net, currency)}]
            off = ZERO
        lines.append(LineDiscount(percent=spec.percent if spec else None, discount=off))
    goods = [net - line.discount for net, line in zip(list_nets, lines, strict=True)]
    goods_net = sum(goods, ZERO)
    order_amount = order_discount.off(goods_net) if order_discount else ZERO
    if order_amount > goods_net:
        errors["discount"] = [_("At most %(max)s off this order.")
                              % {"max": format_money(goods_net, currency)}]
        order_amount = ZERO
    result = Discounts(lines=lines,
                       order_percent=order_discount.percent if order_discount else None,
                       order_amount=order_amount, errors=errors)
    if code:
        redeemable = _check_code(code=code, customer_id=customer_id, currency=currency,
                                 goods_net=goods_net - order_amount,
                                 exclude_order_id=exclude_order_id)
        if isinstance(redeemable, str):
            errors["discount_code"] = [redeemable]
        else:
            result.code = redeemable
            result.code_amount = min(
                goods_net - order_amount,
                quantize_money((goods_net - order_amount) * redeemable.value / HUNDRED)
                if redeemable.kind == DiscountKind.PERCENT else redeemable.value)
    shares = allocate(result.order_amount + result.code_amount, goods)
    for line, share in zip(lines, shares, strict=True):
        line.order_discount = share
    percent = limit_percent(actor)
    if percent is not None:
        result.limit = quantize_money(sum(list_nets, ZERO) * percent / HUNDRED)
    return result


def _check_code(*, code: str, customer_id: int, currency: str, goods_net: Decimal,
                exclude_order_id: int | None) -> DiscountCode | str:
    """The code, locked, if this customer may use it on these goods now;
    otherwise why not."""
    found = (DiscountCode.objects.select_for_update(of=("self",))
             .filter(code__iexact=code.strip()).first())
    now = timezone.now()
    if found is None or not found.is_active:
        return _("Unknown discount code.")
    if found.valid_from > now:
        return _("This code is valid from %(date)s.") % {
            "date": timezone.localtime(found.valid_from).date().isoformat()}
    if found.valid_until is not None and found.valid_until <= now:
        return _("This code has expired.")
    if found.currency != currency:
        return _("This code is for orders in %(currency)s.") % {"currency": found.currency}
    if goods_net < found.minimum_order:
        return _("This code needs an order of at least %(minimum)s.") % {
            "minimum": format_money(found.minimum_order, found.currency)}
    # Counted under the code's lock: a racing placement waits for our commit.
    uses = (DiscountRedemption.objects.filter(code=found)
            .exclude(order__status__in=CLOSED))
    if exclude_order_id is not None:
        uses = uses.exclude(order_id=exclude_order_id)
    counts = uses.aggregate(total=Count("pk"), mine=Count("pk", filter=Q(customer_id=customer_id)))
    if found.max_uses is not None and counts["total"] >= found.max_uses:
        return _("This code has been used up.")
    if found.max_uses_per_customer is not None \
            and counts["mine"] >= found.max_uses_per_customer:
        return _("This customer has already used this code.")
    return found


def redeem(discounts: Discounts, *, order: Order, replace: bool = False) -> None:
    """Record the code's use by the saved order (same transaction);
    `replace`: the order's earlier use (a draft re-priced) goes first."""
    if replace:
        DiscountRedemption.objects.filter(order=order).delete()
    if discounts.code is not None:
        DiscountRedemption.objects.create(code=discounts.code, order=order,
                                          customer_id=order.customer_id,
                                          amount=discounts.code_amount)
