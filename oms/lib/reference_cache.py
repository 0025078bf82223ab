"""Small reference tables read on every placement (VAT rates per country,
shipping rates per destination), kept in the process for
`REFERENCE_CACHE_SECONDS` so a placement does not ask PostgreSQL for the
same few rows each time.

A write in this process forgets the table at once (the owning app connects
`forget_on_write` in its `ready()`: model save and delete, queryset
`.delete()` included; a queryset `.update()` is not seen and waits for the
expiry); other processes see an admin's edit within the expiry. 0 turns
the cache off. Orders copy the rate they apply, so an edit never changes
an order already placed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

_entries: dict[tuple[str, Hashable], tuple[float, Any]] = {}


def cached(table: str, key: Hashable, load: Callable[[], T]) -> T:
    """`load()`'s answer for (`table`, `key`), read again after the expiry."""
    ttl = getattr(settings, "REFERENCE_CACHE_SECONDS", 0)
    if ttl <= 0:
        return load()
    now = time.monotonic()
    hit = _entries.get((table, key))
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    _entries[(table, key)] = (now + ttl, value)
    return value


def forget(table: str | None = None) -> None:
    """Drop the cached rows of `table` (every table when None)."""
    for entry in [entry for entry in _entries if table is None or entry[0] == table]:
        _entries.pop(entry, None)


def forget_on_write(model: type[models.Model], table: str) -> None:
    """Forget `table` whenever a row of `model` is saved or deleted here:
    at once, and again at commit (a placement reading in between would
    otherwise keep the old rows for the expiry)."""

    def on_write(**_kwargs: Any) -> None:
        forget(table)
        transaction.on_commit(lambda: forget(table))

    post_save.connect(on_write, sender=model, weak=False,
                      dispatch_uid=f"reference_cache:{table}:save")
    post_delete.connect(on_write, sender=model, weak=False,
                        dispatch_uid=f"reference_cache:{table}:delete")
