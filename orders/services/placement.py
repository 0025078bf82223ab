"""Placing orders: the typed input is parsed already; check it against the
customer and the catalogue, price from the catalogue, hold stock, place."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from customers.models import Customer
from inventory import api as inventory_api
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.submissions import claim_submission, record_submission_result
from oms.models import ApiToken
from orders import discounts as order_discounts
from orders import events as order_events
from orders import shipping
from orders.costs import snapshot_costs
from orders.inputs import LineInput, PlaceOrder
from orders.models import (
    DiscountRedemption,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    next_order_number,
)
from orders.payments import PaymentDetails, check_payment_details, enqueue_payment_approval
from orders.pricing import (
    LineToPrice,
    no_price_error,
    offers_column,
    price_lines,
    prices_from_offers,
)
from orders.quote import list_nets, order_figures
from orders.services._common import (
    _actor_id,
    _announce_placed,
    _refuse,
    _run_transition,
    _transition,
    lock_order,
)
from orders.taxes import (
    ORDER_VAT_FIELDS,
    RateTables,
    decide_for_order,
    rate_countries,
    with_rates,
)

# Each sold product at the unit price of the order's price list, and its quantity.
Priced = list[tuple[inventory_api.ProductInfo, int]]
# What a one-time form key was used for (`oms.lib.submissions`): order entry.
ENTRY_SUBMISSION = "orders.entry"


@dataclass(frozen=True)
class OnFile:
    """What the database says about an order before it is written: the
    customer, the sold lines at their price-list prices, and the rows of the
    VAT and shipping rate tables its pricing may use."""

    customer: Customer
    priced: Priced
    vat_rates: RateTables
    shipping_bands: list[shipping.Band]


# The customer's row and, as columns of it, the reference rows its order's
# pricing needs: one statement, and plain SQL as every placement runs it.
_CUSTOMER_ON_FILE_SQL = """
SELECT customers_customer.*, {columns}
  FROM customers_customer
 WHERE customers_customer.id = %s"""


def _customer_on_file(customer_id: int, columns: dict[str, RawSQL]
                      ) -> tuple[Customer | None, dict[str, Any]]:
    """The customer (None: no such id) and the scalar subqueries `columns`
    over its row, JSON decoded."""
    sql = _CUSTOMER_ON_FILE_SQL.format(columns=", ".join(
        f"{column.sql} AS {name}" for name, column in columns.items()))
    params = [param for column in columns.values() for param in column.params]
    customer = next(iter(Customer.objects.raw(sql, [*params, customer_id])), None)
    if customer is None:
        return None, {}
    # Taken off the instance, which the order keeps as its customer.
    values = {name: customer.__dict__.pop(name) for name in columns}
    return customer, {name: json.loads(value) if value else None
                      for name, value in values.items()}


def _check_on_file(*, customer_id: int, lines: list[LineInput], currency: str,
                   country: str, payment: PaymentDetails | None) -> OnFile:
    """The rules that need the database: the customer may order, every SKU is
    sold and priced in the currency today, the payment details can work. One
    ApplicationError for all. Two statements: the products, then the
    customer with the prices, VAT rates and shipping bands as columns of its
    row."""
    errors: dict[str, list[str]] = {}
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
    to_price = [LineToPrice(product_id=product.id, quantity=quantity)
                for _i, product, quantity in sold]
    today = timezone.localdate()
    vat_countries = rate_countries(country)
    # Re-read: the caller's instance may predate a block.
    customer, columns = _customer_on_file(customer_id, {
        "price_offers": offers_column(currency=currency, on_date=today, lines=to_price),
        "vat_tables": inventory_api.vat_rates_column(countries=vat_countries),
        "shipping_bands": shipping.bands_column(currency=currency, country=country)})
    if customer is None:
        errors["customer"] = [_("Choose a customer.")]
        prices = price_lines(customer=None, currency=currency, on_date=today, lines=to_price)
    elif customer.is_blocked:
        raise ApplicationError(
            _("Customer %(name)s is blocked and cannot order.") % {"name": customer.name},
            field_errors={"customer": [_("This customer is blocked.")]},
            code="customer_blocked")
    else:
        prices = prices_from_offers(columns["price_offers"], to_price)
    priced = []
    for (index, product, quantity), price in zip(sold, prices, strict=True):
        if price is None:
            errors[f"lines.{index}.sku"] = [no_price_error(sku=product.sku, currency=currency)]
        else:
            priced.append((replace(product, unit_price=price.unit_price), quantity))
    if payment is not None:
        errors.update(check_payment_details(payment))
    if errors:
        raise ApplicationError(_("The order has errors; nothing was saved."),
                               field_errors=errors)
    assert customer is not None  # a missing one is refused above
    return OnFile(customer=customer, priced=priced,
                  vat_rates=inventory_api.vat_rates_from_column(columns["vat_tables"],
                                                                countries=vat_countries),
                  shipping_bands=shipping.bands_from_column(columns["shipping_bands"]))


def _check_promise(priced: Priced, promised: date | None) -> None:
    """A promised delivery date cannot come before a pre-order's release date."""
    if promised is None:
        return
    today = timezone.localdate()
    late = [(product.sku, product.available_from) for product, _q in priced
            if product.is_preorder_on(today) and product.available_from is not None
            and product.available_from > promised]
    if late:
        sku, release = late[0]
        msg = _("%(sku)s is a pre-order, available from %(date)s: promise that date or later."
                ) % {"sku": sku, "date": date_format(release, "DATE_FORMAT")}
        raise ApplicationError(msg, field_errors={"promised_delivery_date": [msg]},
                               code="before_release")


def _discounts(order: Order, priced: Priced, *, lines: list[LineInput], discount: str | None,
               code: str, actor: Actor) -> order_discounts.Discounts:
    """The order's discounts as amounts (code row locked until commit); one
    ApplicationError with every field error."""
    found = order_discounts.resolve(
        list_nets=list_nets(priced, currency=order.currency),
        line_discounts=[order_discounts.parse_discount(line.discount) for line in lines],
        order_discount=order_discounts.parse_discount(discount), code=code,
        customer_id=order.customer_id, currency=order.currency, actor=actor,
        exclude_order_id=order.pk)
    if found.errors:
        raise ApplicationError(_("The order has errors; nothing was saved."),
                               field_errors=found.errors)
    return found


def _price_lines(order: Order, on_file: OnFile, discounts: order_discounts.Discounts
                 ) -> list[OrderLine]:
    """Snapshot catalogue data into new lines, less their discounts, at the
    VAT decided for the order (`orders.taxes`); add the shipping charge and
    set the order totals."""
    vat = decide_for_order(order, {product.tax_category for product, _q in on_file.priced},
                           rates=on_file.vat_rates)
    priced = with_rates(on_file.priced, vat)
    figures = order_figures(priced, discounts, currency=order.currency,
                            country=str(order.shipping_address.get("country", "")),
                            bands=on_file.shipping_bands)
    prices, charge, totals = figures.goods, figures.charge, figures.totals
    today = timezone.localdate()
    lines = [OrderLine(order=order, position=position, product_id=product.id, sku=product.sku,
                       name=product.name, unit_price=price.unit_price, tax_rate=price.tax_rate,
                       quantity=price.quantity, line_net=price.net,
                       discount_percent=off.percent, discount=off.discount,
                       order_discount=off.order_discount,
                       available_from=(product.available_from
                                       if product.is_preorder_on(today) else None))
             for position, ((product, _q), price, off) in enumerate(
                 zip(priced, prices, discounts.lines, strict=True), start=1)]
    discounts.apply_to(order)
    order.shipping_label, order.shipping_net, order.shipping_tax_rate = (
        charge.label, charge.net, charge.tax_rate)
    order.total_net, order.total_tax, order.total_gross = totals.net, totals.tax, totals.gross
    snapshot_costs(order, lines, [product for product, _quantity in priced])
    return lines


def _as_entered(percent: Decimal | None, amount: Decimal) -> str | None:
    """A stored discount as it was entered (to re-price a draft)."""
    return str(order_discounts.Discount(percent=percent, amount=amount)) \
        if percent is not None or amount else None


# The order fields `_price_lines` sets besides the totals.
DISCOUNT_FIELDS = ["discount_percent", "discount_amount", "code_discount", "discount_total",
                   "discount_limit", "discount_over_limit", "shipping_label", "shipping_net",
                   "shipping_tax_rate"]


def _hold_stock(order: Order, lines: list[OrderLine], *, customer: Customer,
                expires_at: datetime, actor: Actor) -> dict:
    """Hold stock for every line; the data of the placement event.

    Out of stock: refused with per-line errors, unless the customer accepts
    backorders; then the order is placed without holds and approval moves
    it to `backordered`. A pre-order line (ordered before the product's
    release date) holds nothing and is accepted with or without stock:
    approval leaves all of it waiting, and `allocate_waiting` serves it once
    the date has come and the stock is in.
    """
    data: dict = {"channel": order.channel, "total_gross": str(order.total_gross)}
    preorders = [line for line in lines if line.is_preorder]
    if preorders:
        data["preorder"] = [{"sku": line.sku, "available_from": str(line.available_from)}
                            for line in preorders]
    requests = [inventory_api.LineRequest(order_line_id=line.pk, product_id=line.product_id,
                                          quantity=line.quantity)
                for line in lines if not line.is_preorder]
    if not requests:
        data["preorder_only"] = True
        return data
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


def _waits(placed: dict) -> bool:
    """Placed without holds: short for a backorder customer, or a pre-order."""
    return "stock_short" in placed or "preorder_only" in placed


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
    on_file = _check_on_file(customer_id=data.customer, lines=data.lines,
                             currency=data.currency,
                             country=data.shipping_address.country, payment=payment)
    customer = on_file.customer
    _check_promise(on_file.priced, data.promised_delivery_date)
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
                      ship_complete=data.ship_complete,
                      created_by_id=_actor_id(actor), api_token=api_token,
                      account_unverified=account_unverified)
        discounts = _discounts(order, on_file.priced, lines=data.lines,
                               discount=data.discount, code=data.discount_code, actor=actor)
        order_lines = _price_lines(order, on_file, discounts)
        created = order_events.order_created(order, actor=actor, channel=data.channel,
                                             lines=len(order_lines), save=False)
        if draft:
            order.save(force_insert=True)
            OrderLine.objects.bulk_create(order_lines)
            order_discounts.redeem(discounts, order=order)
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
        order_discounts.redeem(discounts, order=order)
        _announce_placed(order)
        placed = _hold_stock(order, order_lines, customer=customer, expires_at=expires_at,
                             actor=actor)
        if _waits(placed):  # placed without holds: nothing lapses
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
        lines = [LineInput(sku=line.sku, quantity=line.quantity,
                           discount=_as_entered(line.discount_percent, line.discount))
                 for line in order.lines.order_by("position")]
        on_file = _check_on_file(
            customer_id=order.customer_id, lines=lines, currency=order.currency,
            country=str(order.shipping_address.get("country", "")), payment=payment)
        customer = on_file.customer
        _check_promise(on_file.priced, order.promised_delivery_date)
        redemption = DiscountRedemption.objects.filter(order=order).select_related("code").first()
        discounts = _discounts(order, on_file.priced, lines=lines,
                               discount=_as_entered(order.discount_percent,
                                                    order.discount_amount),
                               code=redemption.code.code if redemption else "", actor=actor)
        order.lines.all().delete()
        order_lines = _price_lines(order, on_file, discounts)
        OrderLine.objects.bulk_create(order_lines)
        order_discounts.redeem(discounts, order=order, replace=True)
        if payment is not None:
            order.payment_method = payment.method
        order.save(update_fields=["payment_method", "total_net", "total_tax", "total_gross",
                                  *DISCOUNT_FIELDS, *ORDER_VAT_FIELDS, "updated_at"])
        _announce_placed(order)
        expires_at = _hold_expiry()
        data = _hold_stock(order, order_lines, customer=customer, expires_at=expires_at,
                           actor=actor)
        _transition(order, "place", actor=actor, data=data, refused_as=_("placed"),
                    hold_expires_at=None if _waits(data) else expires_at)
        enqueue_payment_approval(order_id=order.pk, payment=payment, actor=actor)
        return order
