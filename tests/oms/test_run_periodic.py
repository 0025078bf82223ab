"""run_periodic: the in-process beat used by `make run` when there is no Redis."""

from datetime import timedelta

import pytest
from celery.schedules import crontab

from oms.management.commands import run_periodic


def test_seconds_entry_is_not_due_at_start_and_runs_once_its_period_passed(monkeypatch):
    ran = []
    monkeypatch.setattr(run_periodic, "run_task", lambda entry: ran.append(entry.name))
    entries = run_periodic.load_entries({
        "relay": {"task": "oms.tasks.relay_outbox", "schedule": 30.0},
    })

    assert run_periodic.run_due(entries)[0] == []
    entries[0].last_run_at -= timedelta(seconds=31)
    assert run_periodic.run_due(entries)[0] == ["relay"]
    assert run_periodic.run_due(entries)[0] == []
    assert ran == ["relay"]


def test_crontab_entry_runs_when_its_minute_has_come(monkeypatch):
    ran = []
    monkeypatch.setattr(run_periodic, "run_task", lambda entry: ran.append(entry.name))
    entries = run_periodic.load_entries({
        "nightly": {"task": "oms.tasks.relay_outbox", "schedule": crontab(minute=0, hour=3)},
    })
    _ran, wait = run_periodic.run_due(entries)
    assert ran == [] and wait <= 60

    entries[0].last_run_at -= timedelta(days=1, minutes=1)
    assert run_periodic.run_due(entries)[0] == ["nightly"]


def test_unsupported_schedule_is_refused():
    with pytest.raises(TypeError):
        run_periodic.load_entries({"bad": {"task": "x", "schedule": "every day"}})


@pytest.mark.django_db
def test_now_runs_every_configured_task_in_process(monkeypatch):
    from django.core.management import call_command

    from oms.lib import outbox

    calls = []
    monkeypatch.setattr(outbox, "relay", lambda: calls.append("relay") or 0)
    call_command("run_periodic", now=True)
    assert calls == ["relay"]
