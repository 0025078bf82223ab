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
        from oms import checks  # noqa: F401  (registers the system checks)

        # After every migrate, so permissions of models added later reach roles.
        post_migrate.connect(_sync_roles, dispatch_uid="oms.sync_roles")
