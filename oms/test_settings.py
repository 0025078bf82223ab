"""Settings for the test suite: development security flags (no HTTPS
redirect) on the real PostgreSQL and Redis. Production settings have their
own test (tests/oms/test_deploy_check.py)."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oms")

from oms.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Each pytest-xdist worker keeps its shared cache (rate-limit counters, the
# work queue's count) in a Redis database of its own: a test that clears the
# cache (FLUSHDB) or counts requests from 127.0.0.1 never sees another
# worker's keys.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _WORKER.startswith("gw"):  # noqa: F405
    from urllib.parse import urlsplit, urlunsplit

    _url = urlsplit(REDIS_URL)  # noqa: F405
    _base = int(_url.path.strip("/") or 0)
    _db = (_base + 1 + int(_WORKER[2:])) % 16
    CACHES["shared"]["LOCATION"] = urlunsplit(_url._replace(path=f"/{_db}"))  # noqa: F405

# The suite signs users in with force_login and the log-in page: the second
# factor is switched on by its own tests (tests/oms/test_second_factor.py).
OTP_REQUIRED_ROLES = []

# The work queue's top-bar count is not cached across tests (the shared cache
# is Redis, which outlives a test's rolled-back rows); its own tests turn it on.
WORK_QUEUE_BADGE_SECONDS = 0
