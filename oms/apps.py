from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    from oms.lib.roles import sync_roles

    sync_roles()


class OmsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "oms"
    verbose_name = _("Back office")

    def ready(self) -> None:
        # checks: registers the system checks. tasks: the outbox publishes its
        # runner by name; registered here, an eager Celery (tests, a dev server
        # without Redis) runs it in-process.
        from oms import checks, tasks  # noqa: F401

        # After every migrate, so permissions of models added later reach roles.
        post_migrate.connect(_sync_roles, dispatch_uid="oms.sync_roles")

        from django.contrib.auth.signals import user_logged_in

        from oms.lib.idle import start_idle_clock
        from oms.lib.preferences import restore_language

        user_logged_in.connect(restore_language, dispatch_uid="oms.restore_language")
        user_logged_in.connect(start_idle_clock, dispatch_uid="oms.start_idle_clock")
