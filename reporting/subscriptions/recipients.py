"""Who may receive scheduled reports: active Managers and Admins (or
superusers) with an e-mail address, plus plain addresses.

Removing a user from the Manager/Admin role removes them from every
subscription (m2m_changed on User.groups, see `drop_ineligible_recipients`),
and a run re-checks eligibility anyway (`recipients_of`), so a user demoted by
a path that sends no signal (a raw SQL change) still gets nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q, QuerySet

from oms.lib.roles import ADMIN, MANAGER
from reporting.models import ReportSubscription

RECIPIENT_ROLES = (MANAGER, ADMIN)


def eligible_recipients() -> QuerySet:
    """Users who may receive reports: active Managers and Admins with an e-mail."""
    return (get_user_model().objects.filter(is_active=True).exclude(email="")
            .filter(Q(groups__name__in=RECIPIENT_ROLES) | Q(is_superuser=True)).distinct())


def recipients_of(subscription: ReportSubscription) -> list[str]:
    """The addresses a run goes to now: eligible users and plain addresses, once each."""
    users = eligible_recipients().filter(report_subscriptions=subscription)
    addresses = list(users.values_list("email", flat=True)) + list(subscription.extra_emails)
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault(address.lower(), address)
    return sorted(seen.values())


def drop_ineligible_recipients(*, user_ids: list[int] | None = None) -> int:
    """Remove users who are no longer Managers/Admins from every subscription.

    Called by the m2m_changed receiver on User.groups (a role taken away) and
    usable by hand; `user_ids=None` checks every recipient."""
    through = ReportSubscription.recipients.through
    links = through.objects.all()
    if user_ids is not None:
        links = links.filter(user_id__in=user_ids)
    removed, _detail = (links.exclude(user_id__in=eligible_recipients().values("pk"))
                        .delete())
    return removed


def on_groups_changed(sender: type, instance: Any, action: str, reverse: bool,
                      pk_set: set[int] | None, **kwargs: Any) -> None:
    """m2m_changed receiver for User.groups (connected in ReportingConfig.ready)."""
    if action not in ("post_remove", "post_clear"):
        return
    if not reverse:  # user.groups.remove(...) / clear(): instance is the user
        drop_ineligible_recipients(user_ids=[instance.pk])
    else:  # group.user_set.remove(...): pk_set holds the users (None on clear)
        drop_ineligible_recipients(user_ids=list(pk_set) if pk_set else None)


def parse_addresses(text: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or new lines."""
    for separator in ",;\n\r\t":
        text = text.replace(separator, " ")
    return [part.strip() for part in text.split(" ") if part.strip()]


def invalid_addresses(addresses: list[str]) -> list[str]:
    """The addresses that are not valid e-mail addresses, in their order."""
    bad = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    return bad
