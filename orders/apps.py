from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # Registers the outbox handlers (customer e-mails, hold notices,
        # approval, background CSV imports).
        from oms.lib import search
        from orders import emails, imports, payments, return_documents, selectors  # noqa: F401

        search.register(search.Provider("orders", _("Orders"), "orders.view_order",
                                        selectors.search_hits, selectors.exact_hit, rank=10))
