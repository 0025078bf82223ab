"""The work queue: one list of what needs a person, oldest first.

`oms` may import no app, so each app registers its sources from its
`AppConfig.ready()`: held orders and returns (orders), late orders and
carrier exceptions (fulfillment), declined payments (billing), failed
customer e-mails (orders, billing). A source answers its rows in a fixed
number of queries; a row disappears by itself once its condition is
resolved, and while a person has marked its occurrence handled
(`QueueItemHandled`, keyed on the row's version of the condition).

The top bar's count is cached in the shared cache (Redis) for
WORK_QUEUE_BADGE_SECONDS; marking a row handled starts a new generation of
cached counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.models import QueueItemHandled

PERMISSION = "oms.view_work_queue"
HANDLE_PERMISSION = "oms.add_queueitemhandled"
MAX_NOTE = 500


@dataclass(frozen=True, slots=True)
class Link:
    """Where the action is taken: a view name and its one argument."""

    label: str | Promise
    view_name: str
    arg: int


@dataclass(frozen=True, slots=True)
class Row:
    kind: str
    object_id: int
    # One occurrence of the condition: a new occurrence shows the row again.
    version: str
    title: str
    reason: str
    since: datetime
    links: tuple[Link, ...] = ()
    # The order the row is about, for the bulk actions on the queue.
    order_id: int | None = None
    kind_label: str | Promise = field(default="", compare=False)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.object_id}:{self.version}"


@dataclass(frozen=True, slots=True)
class Source:
    kind: str
    label: str | Promise
    # The permission that lets a user see rows of this kind (besides the queue's).
    permission: str
    # () -> the rows whose condition holds now, in a fixed number of queries.
    rows: Callable[[], list[Row]]
    rank: int = 100


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    """Add (or replace, on a second `ready()`) the source of one kind."""
    _SOURCES[source.kind] = source


def sources_for(user: Any) -> list[Source]:
    if not user.has_perm(PERMISSION):
        return []
    return sorted((source for source in _SOURCES.values() if user.has_perm(source.permission)),
                  key=lambda source: (source.rank, source.kind))


class UnknownKind(ApplicationError):
    """A kind of work no source answers for (a filter or a mark from a tampered form)."""


def collect(user: Any, *, kind: str = "") -> list[Row]:
    """The rows the user may see (of one kind when given), handled ones left
    out, oldest first. One query for the handled marks besides the sources'."""
    sources = sources_for(user)
    if kind:
        sources = [source for source in sources if source.kind == kind]
        if not sources:
            raise UnknownKind(_("There is no kind of work called “%(kind)s”.") % {"kind": kind},
                              field_errors={"kind": [_("Choose a kind from the list.")]})
    rows = [replace(row, kind_label=source.label)
            for source in sources for row in source.rows()]
    if not rows:
        return []
    handled = set(
        QueueItemHandled.objects.filter(source__in=[source.kind for source in sources],
                                        object_id__in={row.object_id for row in rows})
        .values_list("source", "object_id", "version"))
    waiting = [row for row in rows if (row.kind, row.object_id, row.version) not in handled]
    return sorted(waiting, key=lambda row: (row.since, row.kind, row.object_id))


def mark_handled(*, kind: str, object_id: int, version: str, note: str = "",
                 actor: Actor) -> QueueItemHandled:
    """Hide one occurrence of a row until its condition recurs.

    Refused for a row that is not in the queue (resolved meanwhile, or never
    there); marking one twice keeps the first person's mark.
    """
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        message = _("Write at most %(max)d characters.") % {"max": MAX_NOTE}
        raise ApplicationError(message, field_errors={"note": [message]})
    source = _SOURCES.get(kind)
    if source is None:
        raise UnknownKind(_("There is no kind of work called “%(kind)s”.") % {"kind": kind})
    current = {(row.object_id, row.version) for row in source.rows()}
    if (object_id, version) not in current:
        raise ApplicationError(_("This item is no longer in the queue: it was resolved "
                                 "meanwhile."), code="resolved")
    try:
        with transaction.atomic(durable=True):
            mark = QueueItemHandled.objects.create(
                source=kind, object_id=object_id, version=version, note=note,
                handled_by=actor if actor is not None and actor.pk else None)
    except IntegrityError:  # someone marked it a moment before: theirs stands
        mark = QueueItemHandled.objects.get(source=kind, object_id=object_id, version=version)
    _new_generation()
    return mark


# --- the top bar's count -------------------------------------------------------------

_GENERATION_KEY = "workqueue:generation"
# A cap keeps the badge short; the page lists them all.
BADGE_CAP = 99


def _cache() -> Any:
    return caches["shared"]


def _new_generation() -> None:
    try:
        _cache().incr(_GENERATION_KEY)
    except ValueError:  # no generation yet (or evicted)
        _cache().add(_GENERATION_KEY, 1, timeout=None)


def _count_key(user: Any) -> str | None:
    kinds = ",".join(source.kind for source in sources_for(user))
    if not kinds:
        return None
    return f"workqueue:count:{_cache().get(_GENERATION_KEY, 0)}:{kinds}"


def count_for(user: Any) -> int:
    """How many rows the user's queue shows, cached per set of visible kinds."""
    key = _count_key(user)
    if key is None:
        return 0
    count = _cache().get(key)
    if count is None:
        count = len(collect(user))
        _cache().set(key, count, timeout=settings.WORK_QUEUE_BADGE_SECONDS)
    return int(count)


def remember_count(user: Any, count: int) -> None:
    """The whole queue was just listed: the badge shows its length."""
    key = _count_key(user)
    if key is not None:
        _cache().set(key, count, timeout=settings.WORK_QUEUE_BADGE_SECONDS)

