from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fulfillment"
    verbose_name = _("Fulfillment")

    def ready(self) -> None:
        from fulfillment import handlers
        from oms.lib import events

        events.subscribe("order.cancelled", handlers.ORDER_CANCELLED_HANDLER)
