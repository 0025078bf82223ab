"""Orders placed in the past, and the milestones they reached, for the
dashboard's figures and charts."""

from datetime import timedelta

from django.utils import timezone

from orders.models import EventKind, Order, OrderEvent


def placed_ago(order: Order, delta: timedelta) -> Order:
    Order.objects.filter(pk=order.pk).update(placed_at=timezone.now() - delta,
                                             created_at=timezone.now() - delta)
    order.refresh_from_db()
    return order


def milestone(order: Order, to_status: str, after: timedelta) -> None:
    OrderEvent.objects.create(order=order, kind=EventKind.STATUS_CHANGED,
                              from_status="x", to_status=to_status,
                              created_at=order.placed_at + after)


def invoice_on_terms(capture_on_commit):
    """A shipped order on 30-day terms and the open invoice billing issued for it."""
    from billing.models import Invoice
    from tests.billing.invoicing_support import reserved_order, ship

    order = reserved_order(on_terms=True)
    with capture_on_commit(execute=True):  # billing invoices on shipment
        ship(order)
    return Invoice.objects.get(order=order)
