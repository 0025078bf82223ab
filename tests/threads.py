"""Running work in concurrent threads, each on its own database connection,
for the race tests: every worker waits at one barrier, then all start at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

from django.db import connection


def run_together(*works: Callable[[], object], timeout: float = 60) -> list[object]:
    """Run each callable in its own thread, all released at once; return each
    one's result or the exception it raised, in the order given."""
    barrier = threading.Barrier(len(works))
    results: list[object] = [None] * len(works)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = works[index]()
        except Exception as exc:  # noqa: BLE001 - the test inspects every outcome
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


def race(count: int, work: Callable[[int], object]) -> list[object]:
    """`count` workers running `work(index)` at once."""
    return run_together(*(partial(work, index) for index in range(count)))
