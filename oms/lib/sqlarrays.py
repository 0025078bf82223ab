"""Whole-number arrays for set-based SQL (`unnest(%s::bigint[])`).

Django's psycopg cursor binds parameters on the client, quoting each element
of a Python list one by one; for the thousands of ids of a set-based sweep
that costs more than the statement. `int_array` renders the array literal in
one join, which PostgreSQL casts (`::bigint[]`, `::integer[]`).
"""

from __future__ import annotations

from collections.abc import Iterable


def int_array(values: Iterable[int]) -> str:
    """`{1,2,3}`; every value must be an int (never text from a user)."""
    return "{" + ",".join(str(int(value)) for value in values) + "}"
