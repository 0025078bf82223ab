"""The orders app's part of the work queue and of the bulk actions
(registered in OrdersConfig.ready): orders held too long, returns waiting for
a person, customer e-mails that failed; approve, cancel and resend on many
orders at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms.lib import bulk
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.workqueue import Link, Row, Source
from oms.models import OutboxMessage
from orders import services
from orders.emails import CUSTOMER_EMAILS
from orders.models import EventKind, Order, OrderEvent, OrderStatus
from orders.return_models import Return, ReturnStatus
from orders.selectors import pending_address_changes
from orders.services.resend import CUSTOMER_EMAIL_HANDLERS

HELD = "held_orders"
ADDRESS_REQUESTS = "address_requests"
RETURNS = "returns"
FAILED_EMAILS = "failed_emails"
ORDERS = "orders"

_ORDER_LINK = gettext_lazy("Open the order")


def held_orders() -> list[Row]:
    """Orders on hold for longer than WORK_QUEUE_HOLD_HOURS; one occurrence
    per hold (its reason and start)."""
    since = timezone.now() - timedelta(hours=settings.WORK_QUEUE_HOLD_HOURS)
    orders = (Order.objects.filter(status=OrderStatus.ON_HOLD, held_since__lt=since)
              .select_related("customer").order_by("held_since", "pk"))
    return [Row(kind=HELD, object_id=order.pk, order_id=order.pk,
                version=f"{order.hold_reason}:{order.held_since.isoformat()}",
                title=f"{order.number} · {order.customer.name}",
                reason=_("On hold: %(reason)s.") % {"reason": order.get_hold_reason_display()},
                since=order.held_since,
                links=(Link(_ORDER_LINK, "orders:detail", order.pk),))
            for order in orders if order.held_since is not None]


def address_requests() -> list[Row]:
    """Customers' requests for another delivery address, waiting for a decision."""
    return [Row(kind=ADDRESS_REQUESTS, object_id=request.pk, order_id=request.order_id,
                version="pending", since=request.created_at,
                title=f"{request.order.number} · {request.order.customer.name}",
                reason=_("The customer asks to deliver to another address: accept or "
                         "refuse it."),
                links=(Link(_ORDER_LINK, "orders:detail", request.order_id),))
            for request in pending_address_changes()]


def waiting_returns() -> list[Row]:
    """Returns requested and not decided, and returns received but not inspected."""
    returns = (Return.objects.filter(status__in=[ReturnStatus.REQUESTED, ReturnStatus.RECEIVED])
               .select_related("order__customer").order_by("pk"))
    rows = []
    for ret in returns:
        if ret.awaits_inspection:
            reason = _("Return received, not inspected yet.")
            since = ret.received_at or ret.created_at
        else:
            reason = _("Return requested: approve or refuse it.")
            since = ret.created_at
        rows.append(Row(kind=RETURNS, object_id=ret.pk, order_id=ret.order_id,
                        version=ret.status, since=since, reason=reason,
                        title=f"{ret.number} · {ret.order.number} · {ret.order.customer.name}",
                        links=(Link(gettext_lazy("Open the return"), "orders:return_detail",
                                    ret.pk),
                               Link(_ORDER_LINK, "orders:detail", ret.order_id))))
    return rows


def failed_emails() -> list[Row]:
    """Customer e-mails the outbox gave up on, until one about the same order
    goes out after them (a resend) or the row is retried."""
    failed = list(OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED,
                                               handler__in=sorted(CUSTOMER_EMAIL_HANDLERS))
                  .order_by("pk").values("pk", "payload", "created_at"))
    order_ids = {row["payload"].get("order_id") for row in failed} - {None}
    if not order_ids:
        return []
    orders = Order.objects.select_related("customer").in_bulk(list(order_ids))
    last_sent = dict(OrderEvent.objects.filter(order_id__in=order_ids, kind=EventKind.EMAIL)
                     .values("order_id").annotate(last=Max("created_at"))
                     .values_list("order_id", "last"))
    rows = []
    for message in failed:
        order = orders.get(message["payload"].get("order_id"))
        if order is None:
            continue
        sent = last_sent.get(order.pk)
        if sent is not None and sent > message["created_at"]:
            continue
        subject = CUSTOMER_EMAILS.get(message["payload"].get("kind", ""))
        rows.append(Row(kind=FAILED_EMAILS, object_id=message["pk"], order_id=order.pk,
                        version="failed", since=message["created_at"],
                        title=f"{order.number} · {order.customer.name}",
                        reason=(_("The e-mail “%(subject)s” to %(email)s could not be sent.")
                                % {"subject": subject(order), "email": order.customer.email}
                                if subject is not None else
                                _("An e-mail to %(email)s could not be sent.")
                                % {"email": order.customer.email}),
                        links=(Link(_ORDER_LINK, "orders:detail", order.pk),)))
    return rows


SOURCES = [
    Source(HELD, gettext_lazy("Held orders"), "orders.view_order", held_orders, rank=10),
    Source(ADDRESS_REQUESTS, gettext_lazy("Address changes"), "orders.change_order",
           address_requests, rank=20),
    Source(RETURNS, gettext_lazy("Returns"), "orders.view_return", waiting_returns, rank=50),
    Source(FAILED_EMAILS, gettext_lazy("Failed e-mails"), "orders.view_order", failed_emails,
           rank=60),
]


# --- bulk actions on orders -----------------------------------------------------------

def order_labels(ids: list[int]) -> dict[int, str]:
    return dict(Order.objects.filter(pk__in=ids).values_list("pk", "number"))


def plainly(order_id: int, refused: ApplicationError, *, done_label: str,
            done_statuses: tuple[str, ...]) -> ApplicationError:
    """A service's refusal of an illegal transition, in the words of a list:
    "Already cancelled." for an order that is, else the state it is in."""
    if not isinstance(refused, NotAllowed) or refused.code != "illegal_transition":
        return refused
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return refused
    if order.status in done_statuses:
        return NotAllowed(done_label, code="already")
    return NotAllowed(_("Not possible while the order is %(status)s.")
                      % {"status": order.get_status_display().lower()}, code=refused.code)


_APPROVED = (OrderStatus.RESERVED, OrderStatus.BACKORDERED, OrderStatus.PICKING,
             OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.INVOICED, OrderStatus.PAID)


def approve(order_id: int, actor: Actor, params: Mapping[str, str]) -> str:
    try:
        order = services.approve_order(order_id=order_id, actor=actor,
                                       reason=params.get("reason", ""))
    except ApplicationError as refused:
        raise plainly(order_id, refused, done_label=_("Already approved."),
                      done_statuses=_APPROVED) from refused
    if order.status == OrderStatus.BACKORDERED:
        return _("Approved; waiting for stock.")
    return _("Approved.")


def check_cancel(params: Mapping[str, str]) -> None:
    if not params.get("reason", "").strip():
        message = _("Say why the orders are cancelled.")
        raise ApplicationError(message, field_errors={"reason": [message]})


def cancel(order_id: int, actor: Actor, params: Mapping[str, str]) -> str:
    try:
        services.cancel_order(order_id=order_id, actor=actor, reason=params["reason"].strip())
    except ApplicationError as refused:
        raise plainly(order_id, refused, done_label=_("Already cancelled."),
                      done_statuses=(OrderStatus.CANCELLED,)) from refused
    return _("Cancelled.")


def resend_email(order_id: int, actor: Actor, params: Mapping[str, str]) -> str:
    services.resend_last_customer_email(order_id=order_id, actor=actor)
    return _("E-mail queued again.")


ACTIONS = [
    bulk.Action("approve", gettext_lazy("Approve"), "orders.approve_order", approve, rank=10),
    bulk.Action("cancel", gettext_lazy("Cancel"), "orders.cancel_order", cancel,
                check=check_cancel, rank=20),
    bulk.Action("resend_email", gettext_lazy("Resend the last customer e-mail"),
                "orders.change_order", resend_email, rank=40),
]
