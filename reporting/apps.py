from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        # Registers the outbox handlers of reporting (queue a run, send, delete files)
        # and the report task they publish by name: without it an eager Celery
        # (no Redis) would hand "send now" to the broker instead of running it.
        from reporting import subscriptions, tasks  # noqa: F401

        # A user taken out of the Manager/Admin role leaves every report's recipients.
        m2m_changed.connect(subscriptions.on_groups_changed,
                            sender=get_user_model().groups.through,
                            dispatch_uid="reporting.drop_ineligible_recipients")
