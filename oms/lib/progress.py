"""Progress of a long job (a CSV import, a report), for a bar in the page.

The job runs in a worker, often inside one transaction that other connections
cannot see into, so its progress is kept in the "shared" cache (Redis,
shared by the web and the workers; in-process memory when they are one
process). The page polls `oms:progress` with htmx until the job says it is
done. The bar is information only: a cache that cannot be reached never
stops the job.

A job started by a person belongs to them: nobody else can watch it, and its
key is a random token, so it cannot be guessed. A job the system starts (a
scheduled report) has no owner and a key its record names; the view showing
it checks the reader's permission on that record.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict, dataclass

from django.core.cache import caches

logger = logging.getLogger(__name__)

KEY_PREFIX = "progress:"
KEEP_SECONDS = 24 * 3600  # a finished job's result stays readable this long
STEP_EVERY = 100  # write at most every this many units (not every row)


@dataclass
class State:
    user_id: int | None  # None: a system job, shown by a permission-checked view
    label: str  # what the bar shows above itself (already translated)
    total: int = 0
    done: int = 0
    finished: bool = False
    failed: bool = False
    message: str = ""  # the outcome, shown when finished
    result_url: str = ""  # where the outcome can be seen, if anywhere

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return min(99, 100 * self.done // self.total) if self.total else 0


class Progress:
    """A job's handle: `advance()` as units are done, `finish()` at the end."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._unsaved = 0

    @classmethod
    def start(cls, *, user_id: int | None, label: str, total: int = 0,
              key: str | None = None) -> Progress:
        progress = cls(key or secrets.token_urlsafe(16))
        progress._save(State(user_id=user_id, label=label, total=total))
        return progress

    def state(self) -> State | None:
        try:
            data = caches["shared"].get(KEY_PREFIX + self.key)
        except Exception:  # noqa: BLE001  the bar is information only
            logger.warning("progress of %s unreadable", self.key, exc_info=True)
            return None
        return State(**data) if data else None

    def advance(self, units: int = 1, *, total: int | None = None) -> None:
        self._unsaved += units
        if self._unsaved < STEP_EVERY and total is None:
            return
        state = self.state()
        if state is not None:
            state.done += self._unsaved
            state.total = total if total is not None else state.total
            self._save(state)
        self._unsaved = 0

    def finish(self, *, message: str, failed: bool = False, result_url: str = "") -> None:
        state = self.state()
        if state is not None:
            state.done, state.finished, state.failed = state.total, True, failed
            state.message, state.result_url = message, result_url
            self._save(state)

    def _save(self, state: State) -> None:
        try:
            caches["shared"].set(KEY_PREFIX + self.key, asdict(state), KEEP_SECONDS)
        except Exception:  # noqa: BLE001  the bar is information only
            logger.warning("progress of %s not saved", self.key, exc_info=True)


def state_for(key: str, *, user_id: int) -> State | None:
    """The job's state, only for the user who started it."""
    state = Progress(key).state()
    return state if state is not None and state.user_id is not None and (
        state.user_id == user_id) else None
