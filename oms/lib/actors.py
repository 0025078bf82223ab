"""Who acts: every service takes the acting user, or None for the system
(a scheduled task, a broker callback, a data migration), so the audit trail
always says who."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Actor: TypeAlias = "User | None"


def actor_id(actor: Actor) -> int | None:
    """The user's id for an audit row (None for the system)."""
    return actor.pk if actor is not None else None
