"""Placing orders: validate, price from the catalogue, hold stock, place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, Standing
from customers.services import clean_address
from inventory import api as inventory_api
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.money import is_supported_currency
from orders.models import (
    Channel,
    EventKind,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    next_order_number,
)
from orders.payments import PaymentDetails, check_payment_details, request_payment_approval
from orders.services._common import (
    MAX_CARRIER,
    MAX_LINES,
    MAX_NOTE,
    MAX_QUANTITY,
    LineInput,
    _actor_id,
    _clean_text,
    _email_customer,
    _lock_order,
    _new_event,
    _refuse,
    _run_transition,
    _transition,
)
from orders.totals import PricedLine, compute_totals


@dataclass(frozen=True)
class _CheckedOrder:
    priced: list[tuple[inventory_api.ProductInfo, int]]
    shipping_address: dict
    billing_address: dict
    notes: str
    requested_carrier: str = ""


def _check_lines(lines: object, errors: dict[str, list[str]]
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
        if product is not None and isinstance(quantity, int):
            priced.append((product, quantity))
    return priced


def _check_order(*, customer: Customer, lines: list[LineInput], channel: str, currency: str,
                 shipping_address: dict, billing_address: dict | None,
                 promised_delivery_date: date | None,
                 payment: PaymentDetails | None, notes: str,
                 requested_carrier: str = "") -> _CheckedOrder:
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
    elif payment is not None:
        errors.update(check_payment_details(payment))
    notes = _clean_text(notes, field="notes", limit=MAX_NOTE, errors=errors)
    requested_carrier = _clean_text(requested_carrier, field="requested_carrier",
                                    limit=MAX_CARRIER, errors=errors)
    priced = _check_lines(lines, errors)
    if errors:
        raise ApplicationError(_("The order has errors; nothing was saved."),
                               field_errors=errors)
    return _CheckedOrder(priced=priced, shipping_address=shipping, billing_address=billing,
                         notes=notes, requested_carrier=requested_carrier)


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


def _hold_stock(order: Order, lines: list[OrderLine], *, customer: Customer,
                expires_at: datetime, actor: Actor) -> dict:
    """Hold stock for every line; the data of the placement event.

    Out of stock: refused with per-line errors, unless the customer accepts
    backorders; then the order is placed without holds and approval moves
    it to `backordered`.
    """
    requests = [inventory_api.LineRequest(order_line_id=line.pk, product_id=line.product_id,
                                          quantity=line.quantity) for line in lines]
    data: dict = {"channel": order.channel, "total_gross": str(order.total_gross)}
    try:
        inventory_api.reserve(order_id=order.pk, lines=requests, expires_at=expires_at,
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
        data["stock_short"] = [{"sku": s.sku, "requested": s.requested,
                                "available": s.available} for s in exc.shortages]
    return data


def _hold_expiry() -> datetime:
    return timezone.now() + timedelta(minutes=inventory_api.hold_minutes_default())


def _after_commit_approval(order: Order, payment: PaymentDetails | None, actor: Actor) -> None:
    """Hand the payment to the approver once the placement has committed."""
    transaction.on_commit(
        partial(request_payment_approval, order_id=order.pk, payment=payment, actor=actor),
        robust=True)


def place_order(*, customer: Customer, lines: list[LineInput], channel: str, currency: str,
                shipping_address: dict, billing_address: dict | None = None,
                promised_delivery_date: date | None = None,
                payment: PaymentDetails | None = None, notes: str = "", actor: Actor,
                draft: bool = False, api_token_id: int | None = None,
                requested_carrier: str = "") -> Order:
    """Validate, price from the catalogue, hold stock and place the order.

    Field errors are keyed by input path (`lines.0.sku`, `currency`,
    `shipping_address.city`). `draft=True` saves a draft without holds, to
    be placed later with `place_draft`. `api_token_id`: the JSON API token
    placing it (recorded on the order; it alone may read it back there).
    `requested_carrier`: the carrier the customer asked for, free text the
    shipping screen matches against the carriers.
    """
    checked = _check_order(customer=customer, lines=lines, channel=channel, currency=currency,
                           shipping_address=shipping_address, billing_address=billing_address,
                           promised_delivery_date=promised_delivery_date, payment=payment,
                           notes=notes, requested_carrier=requested_carrier)
    payment_method = payment.method if payment else customer.payment_preference
    with transaction.atomic():
        order = Order(number=next_order_number(), customer=customer, channel=channel,
                      currency=currency, shipping_address=checked.shipping_address,
                      billing_address=checked.billing_address,
                      promised_delivery_date=promised_delivery_date,
                      payment_method=payment_method, notes=checked.notes,
                      requested_carrier=checked.requested_carrier,
                      created_by_id=_actor_id(actor), api_token_id=api_token_id)
        order_lines = _price_lines(order, checked.priced)
        created = _new_event(order, kind=EventKind.CREATED, actor=actor,
                             to_status=OrderStatus.DRAFT,
                             data={"channel": channel, "lines": len(order_lines)})
        if draft:
            order.save(force_insert=True)
            OrderLine.objects.bulk_create(order_lines)
            created.save(force_insert=True)
            return order
        # Placed in memory through the state machine, then written once: the
        # placed order, its lines and the e-mail, the holds last (the stock
        # rows stay locked only from there to COMMIT), both events in one
        # INSERT.
        expires_at = _hold_expiry()
        _run_transition(order, "place", refused_as=_("placed"), hold_expires_at=expires_at)
        order.save(force_insert=True)
        OrderLine.objects.bulk_create(order_lines)
        _email_customer(order, "received")
        data = _hold_stock(order, order_lines, customer=customer, expires_at=expires_at,
                           actor=actor)
        if "stock_short" in data:  # placed without holds: nothing lapses
            order.hold_expires_at = None
            order.save(update_fields=["hold_expires_at", "updated_at"])
        OrderEvent.objects.bulk_create([
            created,
            _new_event(order, kind=EventKind.STATUS_CHANGED, actor=actor,
                       from_status=OrderStatus.DRAFT, to_status=OrderStatus.PLACED,
                       data=data)])
        _after_commit_approval(order, payment, actor)
        return order


def place_draft(*, order: Order, payment: PaymentDetails | None = None, actor: Actor) -> Order:
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
        order.save(update_fields=["payment_method", "total_net", "total_tax", "total_gross",
                                  "updated_at"])
        _email_customer(order, "received")
        expires_at = _hold_expiry()
        data = _hold_stock(order, order_lines, customer=customer, expires_at=expires_at,
                           actor=actor)
        _transition(order, "place", actor=actor, data=data, refused_as=_("placed"),
                    hold_expires_at=None if "stock_short" in data else expires_at)
        _after_commit_approval(order, payment, actor)
        return order
