"""Pagination without COUNT(*): fetch one row more than the page to know
whether a next page exists. Works with `_partials/pagination.html`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet, Subquery


@dataclass
class HasNextPage:
    object_list: list
    number: int
    page_size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def parse_page(value, *, maximum: int = 10_000) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), maximum)


def has_next_page(queryset, *, page: int, page_size: int) -> HasNextPage:
    """One query: rows of `page` (1-based) plus one to detect a next page."""
    offset = (page - 1) * page_size
    rows = list(queryset[offset:offset + page_size + 1])
    return HasNextPage(object_list=rows[:page_size], number=page, page_size=page_size,
                       has_next=len(rows) > page_size)


def has_next_page_by_keys(queryset: QuerySet, *, rows: QuerySet, page: int,
                          page_size: int) -> HasNextPage:
    """Like `has_next_page`, still one query, for deep pages of large tables:
    the page's primary keys come from `queryset` (filters and ORDER BY only,
    so PostgreSQL can skip the OFFSET on an index alone) and only those rows
    are loaded from `rows` (the columns and joins to show, no filters),
    in the same order. `queryset`'s ORDER BY must be unique (end with the pk)
    or the page is not well defined."""
    ordering = queryset.query.order_by or queryset.model._meta.ordering
    if not ordering:
        raise ValueError("has_next_page_by_keys needs an ordered queryset")
    offset = (page - 1) * page_size
    keys = queryset.order_by(*ordering).values("pk")[offset:offset + page_size + 1]
    found = list(rows.filter(pk__in=Subquery(keys)).order_by(*ordering))
    return HasNextPage(object_list=found[:page_size], number=page, page_size=page_size,
                       has_next=len(found) > page_size)
