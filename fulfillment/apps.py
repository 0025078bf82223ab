from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fulfillment"
    verbose_name = _("Fulfillment")

    def ready(self) -> None:
        from fulfillment import handlers, selectors
        from fulfillment.changes import PickListWork
        from oms.lib import events, search
        from orders import backorders
        from orders.selectors import register_expected_arrivals
        from orders.services import register_warehouse_work

        events.subscribe("order.cancelled", handlers.ORDER_CANCELLED_HANDLER)
        search.register(search.Provider("shipments", _("Shipments"), "fulfillment.view_shipment",
                                        selectors.tracking_hits, selectors.tracking_exact,
                                        rank=50))
        # Customer e-mails say when backordered units follow: from the
        # purchase orders on their way, first come, first served.
        register_expected_arrivals(backorders.expected_arrival_per_product)
        # A change of an order before shipment keeps its pick lists in step.
        register_warehouse_work(PickListWork())
        from fulfillment.customer_shipments import shipments_for_customer
        from orders.customer_documents import register_shipments

        register_shipments(shipments_for_customer)
        from fulfillment import work_queue
        from oms.lib import bulk, workqueue
        for source in work_queue.SOURCES:
            workqueue.register(source)
        for action in work_queue.ACTIONS:
            bulk.register("orders", action)
