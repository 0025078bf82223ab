from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from billing import emails, handlers, selectors  # noqa: F401  registers the outbox handlers
        from billing.customer_documents import SOURCES
        from billing.providers import card_token
        from billing.services import (
            SHIPMENT_HANDLER,
            SHIPPED_HANDLER,
            check_payment_details,
            run_payment_approval,
        )
        from billing.services.adjustment import adjust_order_payment
        from oms.lib import events, search
        from orders import customer_documents
        from orders.payments import (
            register_payment_adjuster,
            register_payment_approver,
            register_payment_checker,
            register_payment_tokenizer,
        )

        for source in SOURCES:
            customer_documents.register(source)
        register_payment_approver(run_payment_approval)
        register_payment_checker(check_payment_details)
        register_payment_tokenizer(card_token)
        # A change of an order before shipment moves its open payments.
        register_payment_adjuster(adjust_order_payment)
        # orders publishes "order.shipped" without knowing billing exists.
        events.subscribe("order.shipped", SHIPPED_HANDLER)
        # fulfillment publishes "shipment.left" for each shipment (invoiced on
        # its own when BILLING_INVOICE_EACH_SHIPMENT is on).
        events.subscribe("shipment.left", SHIPMENT_HANDLER)
        search.register(search.Provider("invoices", _("Invoices"), "billing.view_invoice",
                                        selectors.invoice_hits, selectors.invoice_exact,
                                        rank=30))
        search.register(search.Provider("credit_notes", _("Credit notes"),
                                        "billing.view_invoice", selectors.credit_note_hits,
                                        selectors.credit_note_exact, rank=40))
        from billing import work_queue
        from oms.lib import workqueue
        from orders.services.resend import register_customer_email_handler
        workqueue.register(work_queue.SOURCES[0])
        for handler in ("billing.card_retry_email", "billing.prepayment_missing_email"):
            register_customer_email_handler(handler)
