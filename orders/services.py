"""Writes of the orders app: placing an order and every later transition.

Each service locks the order row (`SELECT ... FOR UPDATE`) before it reads
its state, calls the FSM transition method, saves, and writes an
`OrderEvent`, all in one transaction; e-mails go through the outbox.

Transactions: the services use plain `transaction.atomic()`, so a caller may
compose them (the CSV import places every row of a file in one transaction;
billing records a payment and approves in one). Called on their own they are
the outermost transaction. `expire_orders` is an entry point of the beat task
and is durable.

Lock order (keeps approval, cancellation and the expiry sweep deadlock-free):
order row first, then the order's reservations, then stock levels (the last
two inside inventory.api, stock levels in primary-key order).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from customers.models import Customer, Standing
from customers.services import clean_address
from inventory import api as inventory_api
from inventory.models import Reservation
from oms.lib import outbox
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.money import is_supported_currency
from orders.models import (
    Channel,
    EventKind,
    HoldReason,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    next_order_number,
)
from orders.payments import PaymentDetails, request_payment_approval
from orders.totals import PricedLine, compute_totals

logger = logging.getLogger(__name__)

MAX_LINES = 500
MAX_QUANTITY = 1_000_000
MAX_NOTE = 4000

EMAIL_HANDLER = "orders.send_order_email"
HOLD_NOTICE_HANDLER = "orders.notify_order_held"


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int


class OrderNotFound(ApplicationError):
    status = 404


# --- small helpers ---------------------------------------------------------


def _actor_id(actor) -> int | None:
    return getattr(actor, "pk", None)


def _lock_order(order_id: int) -> Order:
    """The order row, locked for the rest of the transaction."""
    order = Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(_("Order not found."), code="not_found")
    return order


def _refuse(order: Order, action: str) -> NotAllowed:
    return NotAllowed(
        _("Order %(number)s is %(status)s and cannot be %(action)s.")
        % {"number": order.number, "status": order.get_status_display().lower(),
           "action": action},
        code="illegal_transition")


def _event(order: Order, *, kind: str, actor, from_status: str = "", to_status: str = "",
           reason: str = "", data: dict | None = None) -> OrderEvent:
    return OrderEvent.objects.create(order=order, kind=kind, actor_id=_actor_id(actor),
                                     from_status=from_status, to_status=to_status,
                                     reason=reason, data=data or {})


def _transition(order: Order, method_name: str, *, actor, reason: str = "",
                data: dict | None = None, refused_as: str, **kwargs) -> OrderEvent:
    """Run the FSM transition `method_name`, save, and write its event."""
    method = getattr(order, method_name)
    if not can_proceed(method):
        raise _refuse(order, refused_as)
    from_status = order.status
    method(**kwargs)
    order.save()
    return _event(order, kind=EventKind.STATUS_CHANGED, actor=actor, from_status=from_status,
                  to_status=order.status, reason=reason, data=data)


def _email_customer(order: Order, kind: str, *, reason: str = "") -> None:
    outbox.enqueue(EMAIL_HANDLER, {"order_id": order.pk, "kind": kind, "reason": reason},
                   dedup_key=f"orders:email:{order.pk}:{kind}")


def _clean_text(value, *, field: str, limit: int, required: bool = False,
                errors: dict[str, list[str]]) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = [_("Enter text.")]
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = [_("This field is required.")]
    elif len(value) > limit:
        errors[field] = [_("At most %(n)d characters.") % {"n": limit}]
    return value


# --- placement -------------------------------------------------------------


@dataclass(frozen=True)
class _CheckedOrder:
    priced: list[tuple[inventory_api.ProductInfo, int]]
    shipping_address: dict
    billing_address: dict
    notes: str


def _check_lines(lines, errors: dict[str, list[str]]
                 ) -> list[tuple[inventory_api.ProductInfo, int]]:
    if not isinstance(lines, list | tuple) or not lines:
        errors["lines"] = [_("Add at least one line.")]
        return []
    if len(lines) > MAX_LINES:
        errors["lines"] = [_("At most %(n)d lines per order.") % {"n": MAX_LINES}]
        return []
    skus = [line.sku for line in lines if isinstance(getattr(line, "sku", None), str)]
    products = inventory_api.products_by_sku(skus=skus)
    priced = []
    for index, line in enumerate(lines):
        sku, quantity = getattr(line, "sku", None), getattr(line, "quantity", None)
        product = products.get(sku) if isinstance(sku, str) else None
        if not isinstance(sku, str) or not sku.strip():
            errors[f"lines.{index}.sku"] = [_("Enter a SKU.")]
        elif product is None:
            errors[f"lines.{index}.sku"] = [_("Unknown SKU %(sku)s.") % {"sku": sku}]
        elif not product.is_active:
            errors[f"lines.{index}.sku"] = [
                _("Product %(sku)s is no longer sold.") % {"sku": sku}]
        if (isinstance(quantity, bool) or not isinstance(quantity, int)
                or not 0 < quantity <= MAX_QUANTITY):
            errors[f"lines.{index}.quantity"] = [
                _("Enter a whole number from 1 to %(max)d.") % {"max": MAX_QUANTITY}]
        if product is not None:
            priced.append((product, quantity))
    return priced


def _check_order(*, customer: Customer, lines, channel: str, currency: str,
                 shipping_address, billing_address, promised_delivery_date,
                 payment: PaymentDetails | None, notes: str) -> _CheckedOrder:
    """Every refusal that needs no write, raised as one ApplicationError."""
    errors: dict[str, list[str]] = {}
    if customer is None or customer.pk is None:
        errors["customer"] = [_("Choose a customer.")]
    else:
        # Re-read: the caller's instance may predate a block.
        standing = (Customer.objects.filter(pk=customer.pk)
                    .values_list("standing", flat=True).first())
        if standing is None:
            errors["customer"] = [_("Choose a customer.")]
        elif standing == Standing.BLOCKED:
            raise ApplicationError(
                _("Customer %(name)s is blocked and cannot order.") % {"name": customer.name},
                field_errors={"customer": [_("This customer is blocked.")]},
                code="customer_blocked")
    if channel not in Channel.values:
        errors["channel"] = [_("Unknown channel.")]
    if not isinstance(currency, str) or not is_supported_currency(currency):
        errors["currency"] = [_("Unsupported currency %(currency)s; use one of %(allowed)s.")
                              % {"currency": currency,
                                 "allowed": ", ".join(settings.CURRENCIES)}]
    shipping, shipping_errors = clean_address(shipping_address, prefix="shipping_address.")
    errors.update(shipping_errors)
    if billing_address:
        billing, billing_errors = clean_address(billing_address, prefix="billing_address.")
        errors.update(billing_errors)
    else:
        billing = dict(shipping)
    if promised_delivery_date is not None and (
            not isinstance(promised_delivery_date, date)
            or isinstance(promised_delivery_date, datetime)
            or promised_delivery_date < timezone.localdate()):
        errors["promised_delivery_date"] = [_("Enter a date from today on.")]
    if payment is not None and payment.method not in PaymentMethod.values:
        errors["payment.method"] = [_("Unknown payment method.")]
    notes = _clean_text(notes, field="notes", limit=MAX_NOTE, errors=errors)
    priced = _check_lines(lines, errors)
    if errors:
        raise ApplicationError(_("The order has errors; nothing was saved."),
                               field_errors=errors)
    return _CheckedOrder(priced=priced, shipping_address=shipping, billing_address=billing,
                         notes=notes)


def _price_lines(order: Order, priced: list[tuple[inventory_api.ProductInfo, int]]
                 ) -> list[OrderLine]:
    """Snapshot catalogue data into new lines and set the order totals."""
    lines = []
    for position, (product, quantity) in enumerate(priced, start=1):
        line = PricedLine(unit_price=product.unit_price, tax_rate=product.tax_rate,
                          quantity=quantity)
        lines.append(OrderLine(order=order, position=position, product_id=product.id,
                               sku=product.sku, name=product.name,
                               unit_price=product.unit_price, tax_rate=product.tax_rate,
                               quantity=quantity, line_net=line.net))
    totals = compute_totals([PricedLine(unit_price=line.unit_price, tax_rate=line.tax_rate,
                                        quantity=line.quantity) for line in lines])
    order.total_net, order.total_tax, order.total_gross = totals.net, totals.tax, totals.gross
    return lines


def _hold_stock_and_place(order: Order, lines: list[OrderLine], *, customer: Customer,
                          payment: PaymentDetails | None, actor) -> Order:
    """Hold stock for every line, move draft -> placed, queue the e-mail, and
    hand the payment to the approver once the transaction commits.

    Out of stock: refused with per-line errors, unless the customer accepts
    backorders; then the order is placed without holds and approval moves
    it to `backordered`.
    """
    requests = [inventory_api.LineRequest(order_line_id=line.pk, product_id=line.product_id,
                                          quantity=line.quantity) for line in lines]
    data: dict = {"channel": order.channel, "total_gross": str(order.total_gross)}
    try:
        holds = inventory_api.reserve(order_id=order.pk, lines=requests, hold_minutes=None,
                                      actor_id=_actor_id(actor))
    except inventory_api.InsufficientStock as exc:
        if not customer.accepts_backorder:
            short = {s.product_id: s for s in exc.shortages}
            exc.field_errors = {
                f"lines.{index}.quantity": [
                    _("Only %(available)d of %(sku)s available.")
                    % {"available": short[line.product_id].available, "sku": line.sku}]
                for index, line in enumerate(lines) if line.product_id in short
            }
            raise
        holds = []
        data["stock_short"] = [{"sku": s.sku, "requested": s.requested,
                                "available": s.available} for s in exc.shortages]
    hold_expires_at = min((h.expires_at for h in holds if h.expires_at), default=None)
    _transition(order, "place", actor=actor, data=data, refused_as=_("placed"),
                hold_expires_at=hold_expires_at)
    _email_customer(order, "received")
    transaction.on_commit(
        partial(request_payment_approval, order_id=order.pk, payment=payment, actor=actor),
        robust=True)
    return order


def place_order(*, customer: Customer, lines: list[LineInput], channel: str, currency: str,
                shipping_address: dict, billing_address: dict | None = None,
                promised_delivery_date: date | None = None,
                payment: PaymentDetails | None = None, notes: str = "", actor,
                draft: bool = False) -> Order:
    """Validate, price from the catalogue, hold stock and place the order.

    Field errors are keyed by input path (`lines.0.sku`, `currency`,
    `shipping_address.city`). `draft=True` saves a draft without holds, to
    be placed later with `place_draft`.
    """
    checked = _check_order(customer=customer, lines=lines, channel=channel, currency=currency,
                           shipping_address=shipping_address, billing_address=billing_address,
                           promised_delivery_date=promised_delivery_date, payment=payment,
                           notes=notes)
    payment_method = payment.method if payment else customer.payment_preference
    with transaction.atomic():
        order = Order(number=next_order_number(), customer=customer, channel=channel,
                      currency=currency, shipping_address=checked.shipping_address,
                      billing_address=checked.billing_address,
                      promised_delivery_date=promised_delivery_date,
                      payment_method=payment_method, notes=checked.notes,
                      created_by_id=_actor_id(actor))
        order_lines = _price_lines(order, checked.priced)
        order.save()
        OrderLine.objects.bulk_create(order_lines)
        _event(order, kind=EventKind.CREATED, actor=actor, to_status=OrderStatus.DRAFT,
               data={"channel": channel, "lines": len(order_lines)})
        if draft:
            return order
        return _hold_stock_and_place(order, order_lines, customer=customer, payment=payment,
                                     actor=actor)


def place_draft(*, order: Order, payment: PaymentDetails | None = None, actor) -> Order:
    """Place a draft: re-price its lines from today's catalogue and hold stock."""
    with transaction.atomic():
        order = _lock_order(order.pk)
        if order.status != OrderStatus.DRAFT:
            raise _refuse(order, _("placed"))
        customer = order.customer
        existing = list(order.lines.order_by("position"))
        checked = _check_order(
            customer=customer, lines=[LineInput(sku=line.sku, quantity=line.quantity)
                                      for line in existing],
            channel=order.channel, currency=order.currency,
            shipping_address=order.shipping_address, billing_address=order.billing_address,
            promised_delivery_date=order.promised_delivery_date, payment=payment,
            notes=order.notes)
        order.lines.all().delete()
        order_lines = _price_lines(order, checked.priced)
        OrderLine.objects.bulk_create(order_lines)
        if payment is not None:
            order.payment_method = payment.method
        return _hold_stock_and_place(order, order_lines, customer=customer, payment=payment,
                                     actor=actor)


# --- approval and holds ----------------------------------------------------


def _fully_held(order: Order, lines: list[OrderLine]) -> bool:
    held = dict(
        Reservation.objects.filter(order_id=order.pk, status=Reservation.Status.ACTIVE)
        .values("order_line_id").annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    return all(held.get(line.pk, 0) >= line.quantity for line in lines)


def _firm_up(order: Order, lines: list[OrderLine], *, actor) -> bool:
    """Make the order's stock firm; False when it cannot be had.

    Normally the holds are still there and are confirmed. When they are gone
    (lapsed, or the order was placed short for a backorder customer) a fresh
    reservation is tried before giving up.
    """
    actor_id = _actor_id(actor)
    if not _fully_held(order, lines):
        inventory_api.release(order_id=order.pk, reason="re-reserve on approval",
                              actor_id=actor_id)
        requests = [inventory_api.LineRequest(order_line_id=line.pk,
                                              product_id=line.product_id,
                                              quantity=line.quantity) for line in lines]
        try:
            inventory_api.reserve(order_id=order.pk, lines=requests, hold_minutes=None,
                                  actor_id=actor_id)
        except inventory_api.InsufficientStock:
            return False
    inventory_api.confirm(order_id=order.pk, actor_id=actor_id)
    return True


def approve_order(*, order_id: int, actor, reason: str = "") -> Order:
    """placed | on_hold -> reserved (stock made firm), or backordered when the
    stock is gone. Called by billing's approver and by the approval queue."""
    with transaction.atomic():
        order = _lock_order(order_id)
        if not can_proceed(order.approve):
            raise _refuse(order, _("approved"))
        lines = list(order.lines.all())
        if _firm_up(order, lines, actor=actor):
            _transition(order, "approve", actor=actor, reason=reason,
                        refused_as=_("approved"))
            _email_customer(order, "confirmed")
        else:
            _transition(order, "backorder", actor=actor, reason=reason,
                        data={"stock": "short"}, refused_as=_("approved"))
            _email_customer(order, "backordered")
    return order


def allocate_backorder(*, order_id: int, actor) -> Order:
    """backordered -> reserved once stock has arrived for every line."""
    with transaction.atomic():
        order = _lock_order(order_id)
        if not can_proceed(order.allocate):
            raise _refuse(order, _("allocated"))
        if not _firm_up(order, list(order.lines.all()), actor=actor):
            raise NotAllowed(_("Order %(number)s: stock is still short.")
                             % {"number": order.number}, code="stock_short")
        _transition(order, "allocate", actor=actor, refused_as=_("allocated"))
        _email_customer(order, "confirmed")
    return order


def allocate_backorders(*, limit: int = 200) -> int:
    """Try to allocate backordered orders, oldest first, each in its own
    transaction; returns how many became reserved. Run by the beat task, so
    stock received for a backorder reaches it without anyone watching."""
    order_ids = list(Order.objects.filter(status=OrderStatus.BACKORDERED)
                     .order_by("placed_at", "pk").values_list("pk", flat=True)[:limit])
    allocated = 0
    for order_id in order_ids:
        try:
            allocate_backorder(order_id=order_id, actor=None)
        except NotAllowed:  # still short, or changed meanwhile
            continue
        allocated += 1
    return allocated


def hold_order(*, order_id: int, reason_code: str, reason_text: str = "", actor) -> Order:
    """placed -> on_hold with a reason; the approvers are e-mailed."""
    errors: dict[str, list[str]] = {}
    if reason_code not in HoldReason.values:
        errors["reason_code"] = [_("Choose a hold reason.")]
    reason_text = _clean_text(reason_text, field="reason_text", limit=MAX_NOTE, errors=errors)
    if errors:
        raise ApplicationError(_("Please correct the hold reason."), field_errors=errors)
    with transaction.atomic():
        order = _lock_order(order_id)
        event = _transition(order, "hold", actor=actor, reason=reason_text,
                            data={"hold_reason": reason_code}, refused_as=_("put on hold"),
                            reason_code=reason_code, reason_text=reason_text)
        outbox.enqueue(HOLD_NOTICE_HANDLER, {"order_id": order.pk, "event_id": event.pk},
                       dedup_key=f"orders:held:{event.pk}")
    return order


def _close(order_id: int, method_name: str, *, actor, reason: str, refused_as: str) -> Order:
    errors: dict[str, list[str]] = {}
    reason = _clean_text(reason, field="reason", limit=MAX_NOTE, required=True, errors=errors)
    if errors:
        raise ApplicationError(_("Please give a reason."), field_errors=errors)
    with transaction.atomic():
        order = _lock_order(order_id)
        if not can_proceed(getattr(order, method_name)):
            raise _refuse(order, refused_as)
        released = inventory_api.release(order_id=order.pk, reason=reason[:200],
                                         actor_id=_actor_id(actor))
        _transition(order, method_name, actor=actor, reason=reason,
                    data={"reservations_released": released}, refused_as=refused_as)
        if order.placed_at is not None:  # a draft never told the customer anything
            _email_customer(order, "cancelled", reason=reason)
    return order


def reject_order(*, order_id: int, actor, reason: str) -> Order:
    """on_hold -> cancelled, stock released, customer told."""
    return _close(order_id, "reject", actor=actor, reason=reason, refused_as=_("rejected"))


def cancel_order(*, order_id: int, actor, reason: str) -> Order:
    """Any open state before fulfilment -> cancelled, stock released."""
    return _close(order_id, "cancel", actor=actor, reason=reason, refused_as=_("cancelled"))


def add_note(*, order_id: int, text: str, actor) -> OrderEvent:
    errors: dict[str, list[str]] = {}
    text = _clean_text(text, field="text", limit=MAX_NOTE, required=True, errors=errors)
    if errors:
        raise ApplicationError(_("Please write a note."), field_errors=errors)
    with transaction.atomic():
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            raise OrderNotFound(_("Order not found."), code="not_found")
        return _event(order, kind=EventKind.NOTE, actor=actor, reason=text)


# --- expiry ----------------------------------------------------------------

# One statement: move the given orders that are still waiting for approval
# to 'expired' and return their previous status for the events.
_EXPIRE_ORDERS_SQL = """
WITH target AS (
    SELECT id, status AS old_status FROM orders_order
     WHERE id = ANY(%(ids)s) AND status IN ('placed', 'on_hold')
     ORDER BY id
       FOR UPDATE
)
UPDATE orders_order o
   SET status = 'expired', hold_expires_at = NULL, closed_at = %(now)s, updated_at = %(now)s
  FROM target
 WHERE o.id = target.id
RETURNING o.id, target.old_status
"""


def expire_orders(*, now: datetime | None = None) -> int:
    """Expire the orders whose stock hold lapsed before approval.

    Set-based: lock the candidate orders (one SELECT, id order; waits for an
    approval in flight, which then wins), release every lapsed hold in one
    statement (inventory), move the orders in one UPDATE, insert their events
    in one INSERT, and queue one customer e-mail each.
    """
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        candidates = list(
            Order.objects.select_for_update(of=("self",))
            .filter(status__in=[OrderStatus.PLACED, OrderStatus.ON_HOLD],
                    hold_expires_at__lte=now)
            .order_by("pk").values_list("pk", flat=True)
        )
        lapsed = inventory_api.expire_lapsed_holds(now=now)
        stray = set(lapsed) - set(candidates)
        if stray:
            logger.warning("expiry: holds lapsed for orders not due by hold_expires_at: %s",
                           sorted(stray)[:20])
        ids = sorted(set(candidates) | set(lapsed))
        if not ids:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(_EXPIRE_ORDERS_SQL, {"ids": ids, "now": now})
            expired = cursor.fetchall()
        reason = _("The stock hold lapsed before the payment was approved.")
        OrderEvent.objects.bulk_create([
            OrderEvent(order_id=order_id, kind=EventKind.STATUS_CHANGED, actor=None,
                       created_at=now, from_status=old_status, to_status=OrderStatus.EXPIRED,
                       reason=reason)
            for order_id, old_status in expired
        ])
        for order_id, _old in expired:
            outbox.enqueue(EMAIL_HANDLER, {"order_id": order_id, "kind": "expired",
                                           "reason": ""},
                           dedup_key=f"orders:email:{order_id}:expired")
    return len(expired)
