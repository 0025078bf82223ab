"""Notice rules: which arriving orders a back-office user wants to hear of.

A rule belongs to one user (made on their own notice settings page) or to a
role (made by an admin, it reaches every active member): channels (none:
any), a minimum order total in one currency (orders in other currencies do
not match an amount rule), a customer group. An order placed writes one
outbox row ("order.placed", in the INSERT of its confirmation e-mail, so
placement costs no extra statement); the worker then matches every rule in
one INSERT ... SELECT of `oms.Notice` rows, one per user however many of
their rules match, none twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BeforeValidator

from customers.models import CustomerGroup
from oms.lib import notices, outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, Forbidden
from oms.lib.money import format_money
from oms.lib.validation import Input
from orders.models import Channel
from orders.notice_models import NoticeRule

ORDER_PLACED = "order.placed"
MATCH_HANDLER = "orders.match_notice_rules"
NOTICE_KIND = "order_placed"
MANAGE_RULES = "orders.change_noticerule"  # rules for roles and other users


def _channels(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    values = [value] if isinstance(value, str) else list(value)
    unknown = [v for v in values if v not in Channel.values]
    if unknown:
        raise ValueError(_("Unknown channel %(channel)s.") % {"channel": unknown[0]})
    return sorted(set(values))


def _min_total(value: Any) -> Decimal | None:
    if value in (None, ""):
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


def _currency(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or value not in settings.CURRENCIES:
        raise ValueError(_("Unknown currency %(currency)s; use one of %(allowed)s.")
                         % {"currency": value, "allowed": ", ".join(settings.CURRENCIES)})
    return value


def _optional_id(value: Any) -> int | None:
    value = getattr(value, "pk", value)
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("Choose one from the list."))
    return value


class NoticeRuleInput(Input):
    """One rule; `user`/`role`: whose it is (exactly one)."""

    user: Annotated[int | None, BeforeValidator(_optional_id)] = None
    role: Annotated[int | None, BeforeValidator(_optional_id)] = None
    channels: Annotated[list[str], BeforeValidator(_channels)] = []
    min_total: Annotated[Decimal | None, BeforeValidator(_min_total)] = None
    currency: Annotated[str, BeforeValidator(_currency)] = ""
    customer_group: Annotated[int | None, BeforeValidator(_optional_id)] = None

    error_message = gettext_lazy("Please correct the notice rule.")


def check_notice_rule(data: NoticeRuleInput) -> None:
    """The rules across fields (the admin's form checks with it too)."""
    errors: dict[str, list[str]] = {}
    if (data.user is None) == (data.role is None):
        errors["role"] = [_("Choose a user or a role, not both.")]
    if data.currency and data.min_total is None:
        errors["min_total"] = [_("Enter the minimum total in this currency.")]
    if data.min_total is not None and not data.currency:
        errors["currency"] = [_("Choose the currency of the minimum total.")]
    if data.customer_group is not None and not CustomerGroup.objects.filter(
            pk=data.customer_group).exists():
        errors["customer_group"] = [_("Choose a customer group.")]
    if data.role is not None and not Group.objects.filter(pk=data.role).exists():
        errors["role"] = [_("Choose a role.")]
    if errors:
        raise ApplicationError(_("The notice rule has errors; nothing was saved."),
                               field_errors=errors)


def save_notice_rule(data: NoticeRuleInput, *, actor: Actor) -> NoticeRule:
    """Create a rule. A user makes rules for themselves; rules for a role or
    for someone else need `orders.change_noticerule` (admins)."""
    check_notice_rule(data)
    own = actor is not None and data.user == actor.pk
    if not own and not (actor is None or actor.has_perm(MANAGE_RULES)):
        raise Forbidden(_("You may make notice rules only for yourself."))
    with transaction.atomic(durable=True):
        return NoticeRule.objects.create(
            user_id=data.user, role_id=data.role, channels=data.channels,
            min_total=data.min_total, currency=data.currency,
            customer_group_id=data.customer_group)


def delete_notice_rule(*, rule_id: int, actor: Actor) -> None:
    """Delete one of the actor's own rules (any rule with the admin's permission)."""
    with transaction.atomic(durable=True):
        rules = NoticeRule.objects.filter(pk=rule_id)
        if actor is not None and not actor.has_perm(MANAGE_RULES):
            rules = rules.filter(user=actor)
        if not rules.delete()[0]:
            raise ApplicationError(_("No such notice rule."), code="not_found")


# Every matching rule of every user in one statement. A role's rule reaches
# its active members; ON CONFLICT keeps one notice per user and order (a
# re-run of the handler adds nothing).
_MATCH_SQL = """
INSERT INTO oms_notice (user_id, kind, data, subject, created_at)
SELECT DISTINCT u.id, %(kind)s,
       jsonb_build_object('order_id', o.id, 'number', o.number, 'channel', o.channel,
                          'total', o.total_gross::text, 'currency', o.currency,
                          'customer', c.name),
       'order:' || o.id, now()
  FROM orders_order o
  JOIN customers_customer c ON c.id = o.customer_id
  JOIN orders_noticerule r ON r.is_active
   AND (cardinality(r.channels) = 0 OR o.channel = ANY(r.channels))
   AND (r.min_total IS NULL OR (r.currency = o.currency AND o.total_gross >= r.min_total))
   AND (r.customer_group_id IS NULL OR r.customer_group_id = c.group_id)
  JOIN auth_user u ON u.is_active
   AND (u.id = r.user_id
        OR EXISTS (SELECT 1 FROM auth_user_groups ug
                    WHERE ug.user_id = u.id AND ug.group_id = r.role_id))
 WHERE o.id = %(order_id)s
    ON CONFLICT (user_id, kind, subject) DO NOTHING
"""


def match_rules(*, order_id: int) -> int:
    """Write a notice for every user a rule matches the order for; returns
    how many were written."""
    with connection.cursor() as cursor:
        cursor.execute(_MATCH_SQL, {"order_id": order_id, "kind": NOTICE_KIND})
        return cursor.rowcount


@outbox.handler(MATCH_HANDLER)
def match_notice_rules(payload: dict) -> None:
    match_rules(order_id=payload["order_id"])


def channel_labels(rule: NoticeRule) -> list[str]:
    labels = dict(Channel.choices)
    return [str(labels.get(code, code)) for code in rule.channels]


def describe_order_placed(data: dict) -> notices.Described:
    channel = dict(Channel.choices).get(data.get("channel", ""), data.get("channel", ""))
    return notices.Described(
        text=_("Order %(number)s from %(customer)s: %(total)s (%(channel)s)") % {
            "number": data.get("number", ""), "customer": data.get("customer", ""),
            "total": format_money(data.get("total"), data.get("currency")),
            "channel": channel},
        url=reverse("orders:detail", args=[data["order_id"]]))
