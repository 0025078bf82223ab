"""Settings of the benchmark processes: production settings (DEBUG off), with
only what a loopback benchmark cannot have switched off.

- no HTTPS redirect or secure-only cookies (plain HTTP on 127.0.0.1);
- static files through the plain storage (the manifest storage wants a
  `collectstatic` run, which is not what is measured);
- warnings only in the log (the approver logs every decision at INFO).
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-not-secret")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from oms.settings import *  # noqa: E402,F403
from oms.settings import STORAGES  # noqa: E402

STORAGES = {**STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
