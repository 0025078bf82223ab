from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from billing import emails, handlers  # noqa: F401  registers the outbox handlers
        from billing.providers import card_token
        from billing.services import SHIPPED_HANDLER, check_payment_details, run_payment_approval
        from oms.lib import events
        from orders.payments import (
            register_payment_approver,
            register_payment_checker,
            register_payment_tokenizer,
        )

        register_payment_approver(run_payment_approval)
        register_payment_checker(check_payment_details)
        register_payment_tokenizer(card_token)
        # orders publishes "order.shipped" without knowing billing exists.
        events.subscribe("order.shipped", SHIPPED_HANDLER)
