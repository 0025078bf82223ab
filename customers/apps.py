from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from customers import selectors
        from oms.lib import search

        search.register(search.Provider("customers", _("Customers"), "customers.view_customer",
                                        selectors.search_hits, rank=20))
        from oms.lib import audit

        audit.register(audit.AuditedType("customers.customer", label=lambda c: c.name,
                                         url_name="customers:detail"))
        audit.register(audit.AuditedType("customers.customergroup", label=str))
