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
        from orders import emails, imports, payments, return_documents  # noqa: F401
        from orders.return_selectors import return_exact_hit, return_search_hits
        from orders.selectors import exact_hit, search_hits

        search.register(search.Provider("orders", _("Orders"), "orders.view_order",
                                        search_hits, exact_hit, rank=10))
        search.register(search.Provider("returns", _("Returns"), "orders.view_return",
                                        return_search_hits, return_exact_hit, rank=55))
        from oms.lib import audit

        audit.register(audit.AuditedType("orders.order", label=lambda order: order.number,
                                         url_name="orders:detail"))
        audit.register(audit.AuditedType("orders.pricelist", label=lambda pl: pl.name,
                                         url_name="orders:price_list_detail"))
        audit.register(audit.AuditedType("orders.discountcode", label=lambda code: code.code))
        audit.register(audit.AuditedType("orders.shippingrate", label=str))
        audit.register(audit.AuditedType("orders.noticerule", label=str))
        audit.register(audit.AuditedType("orders.return", label=lambda ret: ret.number,
                                         url_name="orders:return_detail"))
        audit.register(audit.AuditedType(
            "orders.ordertemplate", label=lambda template: f"{template.customer.name} · "
                                                           f"{template.name}"))
        from oms.lib import events, notices
        from orders import notices as order_notices

        events.subscribe(order_notices.ORDER_PLACED, order_notices.MATCH_HANDLER)
        notices.register(order_notices.NOTICE_KIND, order_notices.describe_order_placed)
        from oms.lib import bulk, workqueue
        from orders import work_queue
        for source in work_queue.SOURCES:
            workqueue.register(source)
        bulk.register_target(bulk.Target(work_queue.ORDERS, work_queue.order_labels))
        for action in work_queue.ACTIONS:
            bulk.register(work_queue.ORDERS, action)
