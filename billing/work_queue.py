"""Billing's part of the work queue (registered in BillingConfig.ready):
declined payments of orders still waiting for one."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import Payment, PaymentStatus
from oms.lib.workqueue import Link, Row, Source

FAILED_PAYMENTS = "failed_payments"


def failed_payments() -> list[Row]:
    """Declined payments that are still the order's latest attempt, on orders
    still open before fulfilment (on hold or waiting for approval)."""
    later = Payment.objects.filter(order_id=OuterRef("order_id"), pk__gt=OuterRef("pk"))
    payments = (Payment.objects.filter(status=PaymentStatus.DECLINED)
                .filter(~Exists(later))
                .select_related("order__customer").order_by("pk"))
    rows = []
    for payment in payments:
        order = payment.order
        if not (order.is_on_hold or order.awaits_payment_approval):
            continue
        detail = payment.message or payment.decline_code or _("no reason given")
        rows.append(Row(
            kind=FAILED_PAYMENTS, object_id=payment.pk, order_id=order.pk,
            version=str(payment.pk), since=payment.created_at,
            title=f"{order.number} · {order.customer.name}",
            reason=_("The payment was declined: %(detail)s") % {"detail": detail},
            links=(Link(gettext_lazy("Open the order"), "orders:detail", order.pk),)))
    return rows


SOURCES = [
    Source(FAILED_PAYMENTS, gettext_lazy("Failed payments"), "orders.view_order",
           failed_payments, rank=40),
]
