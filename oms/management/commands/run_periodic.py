"""Run settings.CELERY_BEAT_SCHEDULE in-process: celery beat for a machine with no Redis.

`make run` starts this instead of `celery beat` when REDIS_URL is unset. Each
due task runs here with `task.apply()`, so the work happens in this process,
one task at a time. Schedules may be seconds (int/float), a timedelta, or any
celery schedule (`crontab`, `schedule`, `solar`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.schedules import BaseSchedule, schedule
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from oms.celery import app

logger = logging.getLogger(__name__)


@dataclass
class Entry:
    name: str
    task_name: str
    schedule: BaseSchedule
    args: tuple
    kwargs: dict
    last_run_at: datetime


def as_schedule(value) -> BaseSchedule:
    if isinstance(value, BaseSchedule):
        return value
    if isinstance(value, int | float):
        return schedule(run_every=timedelta(seconds=value), app=app)
    if isinstance(value, timedelta):
        return schedule(run_every=value, app=app)
    raise TypeError(f"unsupported schedule {value!r}")


def load_entries(beat_schedule: dict) -> list[Entry]:
    entries = []
    for name, spec in beat_schedule.items():
        sched = as_schedule(spec["schedule"])
        sched.app = app
        entries.append(Entry(
            name=name,
            task_name=spec["task"],
            schedule=sched,
            args=tuple(spec.get("args", ())),
            kwargs=dict(spec.get("kwargs", {})),
            # Like beat: the first run comes one period after start, not at once.
            last_run_at=sched.now(),
        ))
    return entries


def run_due(entries: list[Entry]) -> tuple[list[str], float]:
    """Run every due entry; return the names run and the seconds until the next check."""
    ran: list[str] = []
    next_check = 60.0
    for entry in entries:
        due, wait = entry.schedule.is_due(entry.last_run_at)
        if due:
            entry.last_run_at = entry.schedule.now()
            run_task(entry)
            ran.append(entry.name)
        next_check = min(next_check, max(wait, 0.0))
    return ran, next_check


def run_task(entry: Entry) -> None:
    task = app.tasks.get(entry.task_name)
    if task is None:
        logger.error("periodic %s: no task named %s", entry.name, entry.task_name)
        return
    started = time.monotonic()
    result = task.apply(args=entry.args, kwargs=entry.kwargs)
    if result.failed():
        logger.error("periodic %s (%s) failed: %s\n%s", entry.name, entry.task_name,
                     result.result, result.traceback)
    else:
        logger.info("periodic %s (%s) done in %.2fs: %r", entry.name, entry.task_name,
                    time.monotonic() - started, result.result)


class Command(BaseCommand):
    help = "Run the periodic tasks of CELERY_BEAT_SCHEDULE in-process (celery beat without Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--max-sleep", type=float, default=5.0,
                            help="Longest pause between checks, in seconds.")
        parser.add_argument("--now", action="store_true",
                            help="Run every task once right away, then exit.")

    def handle(self, *args, max_sleep: float, now: bool, **options):
        app.loader.import_default_modules()
        entries = load_entries(settings.CELERY_BEAT_SCHEDULE)
        if now:
            for entry in entries:
                run_task(entry)
            return
        self.stdout.write(f"run_periodic: {len(entries)} periodic tasks: "
                          + ", ".join(e.name for e in entries))
        try:
            while True:
                # A long-lived process: drop connections the database has closed
                # (restart, idle timeout) before and after each round, like a request.
                close_old_connections()
                _ran, wait = run_due(entries)
                close_old_connections()
                time.sleep(min(max(wait, 0.1), max_sleep))
        except KeyboardInterrupt:
            pass
