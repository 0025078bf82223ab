"""Row locks of billing's aggregates, one helper each.

Lock order (keeps approval, invoicing and collection deadlock-free): the
order row first (`orders.services.lock_order`), then the invoice, then its
payments (the providers), then the customer's credit, and the document
counter last of all (see billing.services.invoicing).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from billing.models import Invoice, Payment
from oms.lib.errors import ApplicationError
from orders import services as order_services
from orders.models import Order


def lock_invoice(invoice_id: int, *, related: tuple[str, ...] = ()) -> Invoice:
    """The invoice row (not its `related` rows), locked for the rest of the transaction."""
    invoice = (Invoice.objects.select_for_update(of=("self",)).select_related(*related)
               .filter(pk=invoice_id).first())
    if invoice is None:
        raise ApplicationError(_("Invoice not found."), code="not_found")
    return invoice


def lock_order_and_invoice(invoice_id: int) -> tuple[Order, Invoice]:
    """The invoice's order row, then the invoice row (the lock order above)."""
    order_id = Invoice.objects.filter(pk=invoice_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise ApplicationError(_("Invoice not found."), code="not_found")
    return lock_order(order_id), lock_invoice(invoice_id)


def lock_order(order_id: int) -> Order:
    """The order row with its customer (billing's rules read the customer)."""
    return order_services.lock_order(order_id=order_id, related=("customer",))


def lock_payment(**lookup: object) -> Payment | None:
    """The payment matching `lookup` (`pk=`, or `provider=` and
    `provider_reference=`), locked for the rest of the transaction."""
    return Payment.objects.select_for_update().filter(**lookup).first()
