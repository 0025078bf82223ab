"""Placing orders: the typed input is parsed already; check it against the
customer and the catalogue, price from the catalogue, hold stock, place."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from inventory import api as inventory_api
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.submissions import claim_submission, record_submission_result
from oms.models import ApiToken
from orders import events as order_events
from orders.inputs import LineInput, PlaceOrder
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, next_order_number
from orders.payments import PaymentDetails, check_payment_details, enqueue_payment_approval
from orders.pricing import LineToPrice, no_price_error, price_lines
from orders.services._common import (
    _actor_id,
    _email_customer,
    _refuse,
    _run_transition,
    _transition,
    lock_order,
)
from orders.totals import PricedLine, compute_totals

# Each line's product, quantity and unit price from the price lists.
Priced = list[tuple[inventory_api.ProductInfo, int, Decimal]]
# What a one-time form key was used for (`oms.lib.submissions`): order entry.
ENTRY_SUBMISSION = "orders.entry"


def _check_on_file(*, customer_id: int, lines: list[LineInput], currency: str,
                   payment: PaymentDetails | None) -> tuple[Customer, Priced]:
    """The rules that need the database: the customer may order, every SKU is
    sold and priced in the currency today, the payment details can work. One
    ApplicationError for all."""
    errors: dict[str, list[str]] = {}
    # Re-read: the caller's instance may predate a block.
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        errors["customer"] = [_("Choose a customer.")]
    elif customer.is_blocked:
        raise ApplicationError(
            _("Customer %(name)s is blocked and cannot order.") % {"name": customer.name},
            field_errors={"customer": [_("This customer is blocked.")]},
            code="customer_blocked")
    products = inventory_api.products_by_sku(skus=[line.sku for line in lines])
    sold = []
    for index, line in enumerate(lines):
        product = products.get(line.sku)
        if product is None:
            errors[f"lines.{index}.sku"] = [_("Unknown SKU %(sku)s.") % {"sku": line.sku}]
        elif not product.is_active:
            errors[f"lines.{index}.sku"] = [
                _("Product %(sku)s is no longer sold.") % {"sku": line.sku}]
        else:
            sold.append((index, product, line.quantity))
    prices = price_lines(customer=customer, currency=currency, on_date=timezone.localdate(),
                         lines=[LineToPrice(product_id=product.id, quantity=quantity)
                                for _i, product, quantity in sold])
    priced = []
    for (index, product, quantity), price in zip(sold, prices, strict=True):
        if price is None:
            errors[f"lines.{index}.sku"] = [no_price_error(sku=product.sku, currency=currency)]
        else:
            priced.append((product, quantity, price.unit_price))
    if payment is not None:
        errors.update(check_payment_details(payment))
    if errors:
        raise ApplicationError(_("The order has errors; nothing was saved."),
                               field_errors=errors)
    assert customer is not None  # a missing one is refused above
    return customer, priced


def _price_lines(order: Order, priced: Priced) -> list[OrderLine]:
    """Snapshot catalogue data and prices into new lines and set the order totals."""
    prices = [PricedLine(unit_price=unit_price, tax_rate=product.tax_rate, quantity=quantity,
                         currency=order.currency) for product, quantity, unit_price in priced]
    lines = [OrderLine(order=order, position=position, product_id=product.id, sku=product.sku,
                       name=product.name, unit_price=price.unit_price, tax_rate=price.tax_rate,
                       quantity=price.quantity, line_net=price.net)
             for position, ((product, _q, _p), price) in enumerate(
                 zip(priced, prices, strict=True), start=1)]
    totals = compute_totals(prices)
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
        # Backorders are the customer's term, not an unverified caller's.
        if not customer.accepts_backorder or order.account_unverified:
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


def place_order(data: PlaceOrder, *, actor: Actor, draft: bool = False,
                api_token: ApiToken | None = None, submission_key: str | None = None) -> Order:
    """Check against the customer and catalogue, price, hold stock and place.

    Field errors are keyed by input path (`lines.0.sku`, `customer`).
    `draft=True` saves a draft without holds, to be placed later with
    `place_draft`. `api_token`: the JSON API token placing it (recorded on
    the order; it alone may read it back there). `submission_key`: the entry
    form's one-time key; a second submit with it raises `AlreadySubmitted`
    and makes no second order.

    An API caller names the customer by e-mail, which anyone can type: unless
    the customer allows the token (`Customer.allows_api_token`) the order is
    `account_unverified`: it gets no backorder, and payment approval treats
    it as prepaid and holds it for Sales (`account_review`) instead of
    using the customer's terms, credit limit and standing.
    """
    payment = data.payment_details()
    customer, priced = _check_on_file(customer_id=data.customer, lines=data.lines,
                                      currency=data.currency, payment=payment)
    account_unverified = api_token is not None and not customer.allows_api_token(api_token)
    shipping = data.shipping_address.model_dump()
    payment_method = payment.method if payment else customer.payment_preference
    with transaction.atomic():
        submission = claim_submission(key=submission_key, purpose=ENTRY_SUBMISSION,
                                      actor=actor)
        order = Order(number=next_order_number(), customer=customer, channel=data.channel,
                      currency=data.currency, shipping_address=shipping,
                      billing_address=(data.billing_address.model_dump()
                                       if data.billing_address else dict(shipping)),
                      promised_delivery_date=data.promised_delivery_date,
                      payment_method=payment_method, notes=data.notes,
                      requested_carrier=data.requested_carrier,
                      created_by_id=_actor_id(actor), api_token=api_token,
                      account_unverified=account_unverified)
        order_lines = _price_lines(order, priced)
        created = order_events.order_created(order, actor=actor, channel=data.channel,
                                             lines=len(order_lines), save=False)
        if draft:
            order.save(force_insert=True)
            OrderLine.objects.bulk_create(order_lines)
            created.save(force_insert=True)
            record_submission_result(submission, order.pk)
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
        placed = _hold_stock(order, order_lines, customer=customer, expires_at=expires_at,
                             actor=actor)
        if "stock_short" in placed:  # placed without holds: nothing lapses
            order.hold_expires_at = None
            order.save(update_fields=["hold_expires_at", "updated_at"])
        OrderEvent.objects.bulk_create([
            created,
            order_events.status_changed(order, actor=actor, from_status=OrderStatus.DRAFT,
                                        to_status=OrderStatus.PLACED, data=placed,
                                        save=False)])
        enqueue_payment_approval(order_id=order.pk, payment=payment, actor=actor)
        record_submission_result(submission, order.pk)
        return order


def place_draft(*, order: Order, payment: PaymentDetails | None = None, actor: Actor) -> Order:
    """Place a draft: re-price its lines from today's catalogue and hold stock."""
    with transaction.atomic():
        order = lock_order(order_id=order.pk)
        if order.status != OrderStatus.DRAFT:
            raise _refuse(order, _("placed"))
        customer, priced = _check_on_file(
            customer_id=order.customer_id,
            lines=[LineInput(sku=line.sku, quantity=line.quantity)
                   for line in order.lines.order_by("position")],
            currency=order.currency, payment=payment)
        order.lines.all().delete()
        order_lines = _price_lines(order, priced)
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
        enqueue_payment_approval(order_id=order.pk, payment=payment, actor=actor)
        return order
