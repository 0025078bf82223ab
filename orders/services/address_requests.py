"""Address change requests: the customer asks from their order page to
deliver elsewhere before shipment; customer service accepts (the order
changes through `apply_order_change`, so pick lists, the packing slip and the
customer's "changed" e-mail follow) or refuses with a reason (e-mailed to the
customer in their language).

Each service is durable and locks the order row first, then the request:
a shipment of the same order (which locks the order row too) either
committed before (the request or the acceptance is refused, nothing
written) or waits.
"""

from __future__ import annotations

from typing import Annotated

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.inputs import AddressInput
from oms.lib import audit, outbox
from oms.lib.actors import Actor, actor_id
from oms.lib.errors import ApplicationError, Conflict, NotAllowed
from oms.lib.validation import Input, LongText
from orders import events
from orders.address_request_models import AddressChangeRequest, AddressRequestStatus
from orders.inputs import OrderChange
from orders.models import Order, OrderStatus
from orders.services._common import EMAIL_HANDLER, lock_order
from orders.services.changes import apply_order_change

REFUSED_EMAIL = "address_refused"
MAX_REASON = 500


class AddressRefusal(Input):
    reason: Annotated[str, LongText(MAX_REASON, required=True)]
    error_message = gettext_lazy("Please give the customer a reason.")


def _not_changeable(order: Order) -> NotAllowed | None:
    """Why the order's delivery address can no longer change, or None."""
    if order.is_editable:
        return None
    if order.is_cancelled:
        return NotAllowed(_("Order %(number)s is cancelled: its delivery address cannot "
                            "change.") % {"number": order.number}, code="cancelled")
    if order.status in (OrderStatus.SHIPPED, OrderStatus.INVOICED, OrderStatus.PAID):
        return NotAllowed(_("Order %(number)s has already shipped: its delivery address can "
                            "no longer change.") % {"number": order.number}, code="shipped")
    return NotAllowed(_("Order %(number)s is %(status)s: its delivery address cannot change "
                        "now.") % {"number": order.number,
                                   "status": order.get_status_display().lower()},
                      code="illegal_transition")


def request_address_change(*, order_id: int, data: AddressInput, actor: Actor
                           ) -> AddressChangeRequest:
    """The customer asks to deliver to `data` (the system actor from the
    customer's page). Refused, writing nothing, after shipment, on a
    cancelled order, while another request waits, for another country (the
    VAT would change) or for the address it already has."""
    with transaction.atomic(durable=True):
        order = lock_order(order_id=order_id)
        refusal = _not_changeable(order)
        if refusal is not None:
            raise refusal
        address = data.model_dump()
        current = order.shipping_address or {}
        if str(current.get("country", "")).upper() != address["country"].upper():
            message = _("Another country changes the order's VAT: please contact us to "
                        "cancel it and order again.")
            raise ApplicationError(message, field_errors={"country": [message]},
                                   code="other_country")
        if all(str(current.get(key) or "") == str(value or "")
               for key, value in address.items()):
            raise ApplicationError(_("This is already the delivery address."),
                                   code="no_change")
        try:
            with transaction.atomic():
                request = AddressChangeRequest.objects.create(order=order, address=address)
        except IntegrityError:
            raise Conflict(_("A request for this order is already waiting for our customer "
                             "service."), code="pending") from None
        events.address_request(order, actor=actor, status=AddressRequestStatus.PENDING,
                               address=address)
    return request


def _lock_request(request_id: int) -> tuple[Order, AddressChangeRequest]:
    order_id = (AddressChangeRequest.objects.filter(pk=request_id)
                .values_list("order_id", flat=True).first())
    if order_id is None:
        raise ApplicationError(_("Address change request not found."), code="not_found")
    order = lock_order(order_id=order_id, related=("customer",))
    request = AddressChangeRequest.objects.select_for_update().get(pk=request_id)
    if not request.is_pending:
        raise NotAllowed(_("This request was already %(status)s.")
                         % {"status": request.get_status_display().lower()},
                         code="illegal_transition")
    return order, request


def accept_address_change(*, request_id: int, actor: Actor) -> AddressChangeRequest:
    """Customer service accepts: the order's delivery address changes through
    the order change (its event, the customer's e-mail, the warehouse's
    papers). An order that shipped or was cancelled meanwhile refuses it,
    and nothing is written: refuse the request with a reason instead."""
    with transaction.atomic(durable=True):
        order, request = _lock_request(request_id)
        refusal = _not_changeable(order)
        if refusal is not None:
            raise NotAllowed(refusal.message + " " + _("Refuse the request with a reason for "
                                                       "the customer."), code=refusal.code)
        apply_order_change(order_id=order.pk, actor=actor, data=OrderChange.parse(
            {"shipping_address": request.address}))
        before = request.status
        request.accept(by_id=actor_id(actor))
        request.save(update_fields=["status", "decided_at", "decided_by"])
        audit.record_changes(request, on=order, object_label=order.number, actor=actor,
                             kind=audit.Kind.STATUS, changes={"status": (before, request.status)})
        events.address_request(order, actor=actor, status=request.status,
                               address=request.address)
    return request


def refuse_address_change(*, request_id: int, data: AddressRefusal, actor: Actor
                          ) -> AddressChangeRequest:
    """Customer service refuses; the customer is e-mailed the reason."""
    with transaction.atomic(durable=True):
        order, request = _lock_request(request_id)
        before = request.status
        request.refuse(by_id=actor_id(actor), reason=data.reason)
        request.save(update_fields=["status", "decided_at", "decided_by", "reason"])
        audit.record_changes(request, on=order, object_label=order.number, actor=actor,
                             kind=audit.Kind.STATUS, changes={"status": (before, request.status)})
        event = events.address_request(order, actor=actor, status=request.status,
                                       address=request.address, reason=data.reason)
        outbox.enqueue(EMAIL_HANDLER, {
            "order_id": order.pk, "kind": REFUSED_EMAIL, "reason": data.reason,
            "extra": {"city": request.address.get("city", ""),
                      "line1": request.address.get("line1", "")}},
            dedup_key=f"orders:email:{order.pk}:address_refused:{event.pk}")
    return request
