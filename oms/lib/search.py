"""The back office's one search box: every app answers for its own records.

`oms` may import no app, so each app registers what it can find (orders by
number, customers by name, e-mail or phone, invoices, credit notes, tracking
numbers, SKUs) from its `AppConfig.ready()`. A search asks each provider the
user may see for a few hits: one indexed query per kind, so the number of
queries does not depend on the data. A query that is exactly one record's
number (an order, an invoice, a tracking number) opens that record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Longer text is refused with a message rather than sent to the database.
MAX_QUERY_LENGTH = 100
# Fewer characters than this find only exact numbers: a single letter would
# match a large part of every table.
MIN_FRAGMENT_LENGTH = 2
HITS_PER_KIND = 5


@dataclass(frozen=True, slots=True)
class Hit:
    title: str
    detail: str
    url: str


@dataclass(frozen=True, slots=True)
class Provider:
    kind: str
    label: str | Promise
    # The permission that lets a user see records of this kind.
    permission: str
    # (query, limit) -> hits; the query is stripped and at least MIN_FRAGMENT_LENGTH long.
    find: Callable[[str, int], list[Hit]]
    # query -> the URL of the one record whose number is exactly the query, else None.
    exact: Callable[[str], str | None] | None = None
    # Groups show in ascending rank: orders first.
    rank: int = 100


@dataclass(frozen=True, slots=True)
class Group:
    kind: str
    label: str | Promise
    hits: list[Hit]


_PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    """Add (or replace, on a second `ready()`) the provider of one kind."""
    _PROVIDERS[provider.kind] = provider


class QueryError(ValueError):
    """The search text cannot be searched; the message says why."""


def clean_query(raw: str | None) -> str:
    query = " ".join((raw or "").split())
    if "\x00" in query:
        raise QueryError(_("The search text contains a character that cannot be searched."))
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(_("Search for at most %(max)d characters.")
                         % {"max": MAX_QUERY_LENGTH})
    return query


def _allowed(user) -> list[Provider]:
    return sorted((provider for provider in _PROVIDERS.values()
                   if user.has_perm(provider.permission)), key=lambda provider: provider.rank)


def exact_match(query: str, *, user) -> str | None:
    """The URL of the record whose number is exactly `query`, if one kind has it."""
    for provider in _allowed(user):
        if provider.exact is not None and (url := provider.exact(query)):
            return url
    return None


def search(query: str, *, user, limit: int = HITS_PER_KIND) -> list[Group]:
    """Hits grouped by kind, in rank order, kinds without hits left out."""
    if len(query) < MIN_FRAGMENT_LENGTH:
        return []
    groups = []
    for provider in _allowed(user):
        hits = provider.find(query, limit)
        if hits:
            groups.append(Group(provider.kind, provider.label, hits))
    return groups
