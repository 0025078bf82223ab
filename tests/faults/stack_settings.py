"""Settings of the processes a fault test starts (gunicorn, Celery worker,
beat): the production settings, served over plain HTTP on loopback, with the
e-mail backend of `tests.faults.mailbox` standing in for the mail server."""

from oms.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    # No collectstatic in a test: the pages find their files through the finders.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None  # nothing collected: no directory for WhiteNoise to look for
EMAIL_BACKEND = "tests.faults.mailbox.MailboxBackend"
# The sandbox card gateway and a loopback SITE_URL are what a test stack has;
# production refuses both at start-up.
SILENCED_SYSTEM_CHECKS = ["oms.E001", "oms.E002"]
