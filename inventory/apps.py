from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        # Registers the outbox handler that e-mails purchase orders to suppliers.
        from inventory.purchasing import documents  # noqa: F401
