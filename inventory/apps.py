from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        from inventory import selectors
        from oms.lib import search

        search.register(search.Provider("products", _("Products"), "inventory.view_product",
                                        selectors.product_hits, selectors.product_exact,
                                        rank=60))
