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
        from oms.lib import audit

        audit.register(audit.AuditedType("inventory.product", label=lambda product: product.sku,
                                         url_name="inventory:product_detail"))
        audit.register(audit.AuditedType("inventory.vatrate", label=str))
        audit.register(audit.AuditedType("inventory.productcost", label=str))
        # Registers the outbox handler that e-mails purchase orders to suppliers.
        from inventory.purchasing import documents  # noqa: F401
