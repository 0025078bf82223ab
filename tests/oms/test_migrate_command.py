"""Migrations run without the 60 s statement timeout that guards requests."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)


def _statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_migrate_lifts_the_statement_timeout_while_it_runs_and_restores_it(monkeypatch):
    seen = []
    original = MigrationExecutor.migrate

    def migrate(self, *args, **kwargs):
        seen.append(_statement_timeout())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MigrationExecutor, "migrate", migrate)
    assert _statement_timeout() == "1min"
    call_command("migrate", verbosity=0)
    assert seen == ["0"]
    assert _statement_timeout() == "1min"
