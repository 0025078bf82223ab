"""`migrate` without the request-sized statement timeout.

Every connection has `statement_timeout=60s` (settings) so a stuck request
fails fast; a migration that builds an index or rewrites a large table may
rightly take longer, and a `CREATE INDEX CONCURRENTLY` cut off by the timeout
leaves an invalid index behind. The migration waits for locks no longer than
any other statement (`lock_timeout` stays).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate
from django.db import connections


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
        try:
            super().handle(*args, **options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
