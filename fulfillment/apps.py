from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fulfillment"
    verbose_name = _("Fulfillment")

    def ready(self) -> None:
        from fulfillment import handlers, selectors
        from oms.lib import events, search

        events.subscribe("order.cancelled", handlers.ORDER_CANCELLED_HANDLER)
        search.register(search.Provider("shipments", _("Shipments"), "fulfillment.view_shipment",
                                        selectors.tracking_hits, selectors.tracking_exact,
                                        rank=50))
