"""Bulk actions: one service call per selected row, each in its own
transaction, and a report of what each row gave.

`oms` may import no app, so each app registers its actions from its
`AppConfig.ready()` (approve and cancel in orders, pick lists in
fulfillment). The input is checked as a whole first: no selection, more
than BULK_ACTION_MAX_ROWS rows, an unknown action or one the user may not
do, ids that name no row: a clear error and nothing changed. Then every
row runs on its own: a refusal is that row's result, not the batch's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, Forbidden


@dataclass(frozen=True, slots=True)
class Outcome:
    object_id: int
    label: str
    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    label: str | Promise
    # The permission the action needs, besides the page's.
    permission: str
    # (object id, actor, params) -> what was done, in plain words; raises
    # ApplicationError with the row's refusal. Runs one row, in its own
    # transaction (the service's).
    run: Callable[[int, Actor, Mapping[str, str]], str]
    # params -> an ApplicationError for input the whole batch needs (a
    # cancellation reason), checked before any row runs.
    check: Callable[[Mapping[str, str]], None] | None = None
    rank: int = 100


@dataclass(frozen=True, slots=True)
class Target:
    """What a bulk action runs on (orders): which ids exist and their labels."""

    name: str
    # ids -> {id: label} of those that exist, in one query.
    labels: Callable[[list[int]], dict[int, str]]


_TARGETS: dict[str, Target] = {}
_ACTIONS: dict[str, dict[str, Action]] = {}


def register_target(target: Target) -> None:
    _TARGETS[target.name] = target
    _ACTIONS.setdefault(target.name, {})


def register(target: str, action: Action) -> None:
    """Add (or replace, on a second `ready()`) one action on `target` rows."""
    _ACTIONS.setdefault(target, {})[action.name] = action


def actions_for(target: str, user: Any) -> list[Action]:
    return sorted((action for action in _ACTIONS.get(target, {}).values()
                   if user.has_perm(action.permission)),
                  key=lambda action: (action.rank, action.name))


def parse_ids(values: Iterable[str]) -> list[int]:
    """The selected ids, in the order given, once each; a value that is no
    id refuses the whole selection."""
    ids: list[int] = []
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ApplicationError(_("The selection contains “%(value)s”, which is not a row "
                                     "of this list.") % {"value": str(value)[:20]},
                                   field_errors={"ids": [_("Select rows of the list.")]}
                                   ) from None
        if number <= 0:
            raise ApplicationError(_("The selection contains “%(value)s”, which is not a row "
                                     "of this list.") % {"value": str(value)[:20]},
                                   field_errors={"ids": [_("Select rows of the list.")]})
        if number not in ids:
            ids.append(number)
    return ids


def select(target: str, raw_ids: Iterable[str]) -> dict[int, str]:
    """Check a selection as a whole: not empty, within the limit, every id a
    row. Returns {id: label} in the order selected (an export reads these)."""
    ids = parse_ids(raw_ids)
    if not ids:
        raise ApplicationError(_("Select at least one row."),
                               field_errors={"ids": [_("Select at least one row.")]})
    limit = settings.BULK_ACTION_MAX_ROWS
    if len(ids) > limit:
        raise ApplicationError(
            ngettext("Select at most %(max)d row at a time (%(count)d selected).",
                     "Select at most %(max)d rows at a time (%(count)d selected).", limit)
            % {"max": limit, "count": len(ids)},
            field_errors={"ids": [_("Too many rows selected.")]})
    labels = _TARGETS[target].labels(ids)
    unknown = [str(pk) for pk in ids if pk not in labels]
    if unknown:
        raise ApplicationError(
            ngettext("%(ids)s is not in the list any more; nothing was changed.",
                     "%(ids)s are not in the list any more; nothing was changed.", len(unknown))
            % {"ids": ", ".join(unknown[:10])},
            field_errors={"ids": [_("Select rows of the list.")]})
    return {pk: labels[pk] for pk in ids}


def prepare(target: str, action_name: str, raw_ids: Iterable[str], *, user: Any,
            params: Mapping[str, str]) -> tuple[Action, dict[int, str]]:
    """Check a bulk request as a whole before any row runs: the action exists
    and the user may do it, its own input (a reason), the selection."""
    action = _ACTIONS.get(target, {}).get(action_name)
    if action is None:
        raise ApplicationError(_("Choose an action from the list."),
                               field_errors={"action": [_("Choose an action from the list.")]})
    if not user.has_perm(action.permission):
        raise Forbidden(_("Your role may not %(action)s.")
                        % {"action": str(action.label).lower()}, code="forbidden")
    labels = select(target, raw_ids)
    if action.check is not None:
        action.check(params)
    return action, labels


def run(target: str, action_name: str, raw_ids: Iterable[str], *, user: Any,
        params: Mapping[str, str] | None = None) -> list[Outcome]:
    """Run the action on each selected row; one outcome per row, in the order
    selected. Raises ApplicationError (nothing run) for bad input."""
    params = params or {}
    action, labels = prepare(target, action_name, raw_ids, user=user, params=params)
    outcomes = []
    for object_id, label in labels.items():
        try:
            done = action.run(object_id, user, params)
        except ApplicationError as refused:
            outcomes.append(Outcome(object_id, label, False, refused.message))
        else:
            outcomes.append(Outcome(object_id, label, True, done))
    return outcomes
