"""Returns (RMA): open, decide, receive, inspect, settle.

Every service locks the order row first (`lock_order`), so two returns of
the order's last unit are decided one after the other: the second sees the
first one's units and is refused. The return moves only through its
transition methods; each change is written on the order's timeline
(`orders.events.return_changed`) in the same transaction, and customer
e-mails (instructions with the RMA label PDF) go through the outbox.

Fulfillment (receiving, inspection) and billing (settlement) call these
services inside their own transactions; `request_return` is an entry point
(durable).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from inventory import api as inventory_api
from oms.lib import audit, outbox
from oms.lib.actors import Actor, actor_id
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.money import ZERO, quantize_money
from orders import events
from orders.inputs import PlaceOrder, ReturnDecision, ReturnRequest
from orders.models import (
    Channel,
    Order,
    OrderLine,
    Return,
    ReturnChannel,
    ReturnLine,
    ReturnReason,
    ReturnStatus,
    next_return_number,
)
from orders.pricing import LineToPrice, no_price_error, price_lines
from orders.return_selectors import returnable_lines
from orders.services._common import EMAIL_HANDLER, lock_order
from orders.services.placement import place_order
from orders.services.transitions import approve_order

RMA_LABEL_HANDLER = "orders.send_return_instructions"
STAFF_CHANNELS = {ReturnChannel.PHONE, ReturnChannel.EMAIL, ReturnChannel.STORE}


class ReturnNotFound(ApplicationError):
    status = 404


def _lock_return(return_id: int) -> tuple[Order, Return]:
    """The return's order row, then the return row, locked."""
    order_id = Return.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise ReturnNotFound(_("Return not found."), code="not_found")
    order = lock_order(order_id=order_id)
    ret = Return.objects.select_for_update().get(pk=return_id)
    return order, ret


def _refuse(ret: Return, action: str) -> NotAllowed:
    return NotAllowed(
        _("Return %(number)s is %(status)s and cannot be %(action)s.")
        % {"number": ret.number, "status": ret.get_status_display().lower(),
           "action": action}, code="illegal_transition")


def _move(order: Order, ret: Return, method: str, *, actor: Actor, refused_as: str,
          reason: str = "", data: dict | None = None, **kwargs: Any) -> None:
    transition_method = getattr(ret, method)
    if not can_proceed(transition_method):
        raise _refuse(ret, refused_as)
    before = ret.status
    transition_method(**kwargs)
    ret.save()
    audit.record_changes(ret, actor=actor, kind=audit.Kind.STATUS,
                         changes={"status": (before, ret.status)})
    events.return_changed(order, actor=actor, number=ret.number, status=ret.status,
                          reason=reason, data=data)


def request_return(*, data: ReturnRequest, actor: Actor) -> Return:
    """Open a return of shipped units of one order.

    Each line's quantity is at most what was shipped minus what other returns
    (not refused) already take back. After the return window
    (RETURN_WINDOW_DAYS from the last shipment) only staff may open one, with
    `override_reason`. It starts `requested`: customer service approves it.
    """
    with transaction.atomic(durable=True):
        order = lock_order(order_id=data.order_id)
        return _open(order, data=data, actor=actor)


def _open(order: Order, *, data: ReturnRequest, actor: Actor,
          status: str = ReturnStatus.REQUESTED, tracking_number: str = "") -> Return:
    returnable = returnable_lines(order_id=order.pk)
    by_line = {line.order_line_id: line for line in returnable.lines}
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, line in enumerate(data.lines):
        available = by_line.get(line.order_line_id)
        if available is None:
            errors[f"lines.{index}.order_line_id"] = [_("This line is not on the order.")]
        elif line.order_line_id in seen:
            errors[f"lines.{index}.order_line_id"] = [_("This line is named twice.")]
        elif line.quantity > available.returnable:
            errors[f"lines.{index}.quantity"] = [
                _("At most %(n)d can be returned (shipped %(shipped)d, already returned "
                  "%(returned)d).") % {"n": available.returnable, "shipped": available.shipped,
                                        "returned": available.returned}]
        seen.add(line.order_line_id)
    if not returnable.shipped_at:
        raise ApplicationError(_("Nothing of order %(number)s has shipped yet.")
                               % {"number": order.number}, code="not_shipped")
    if errors:
        raise ApplicationError(str(ReturnRequest.error_message), field_errors=errors)
    override = data.override_reason
    if returnable.window_closed and data.channel != ReturnChannel.CARRIER:
        if data.channel not in STAFF_CHANNELS or actor is None:
            raise ApplicationError(
                _("The return window of %(days)d days has closed.")
                % {"days": settings.RETURN_WINDOW_DAYS}, code="window_closed")
        if not override:
            msg = _("The return window of %(days)d days has closed; give a reason to open "
                    "it anyway.") % {"days": settings.RETURN_WINDOW_DAYS}
            raise ApplicationError(msg, field_errors={"override_reason": [msg]},
                                   code="window_closed")
    else:
        override = ""
    ret = Return(number=next_return_number(), order=order, status=status,
                 channel=data.channel, note=data.note, override_reason=override,
                 warehouse_id=returnable.warehouse_id, tracking_number=tracking_number,
                 requested_by_id=actor_id(actor))
    ret.save(force_insert=True)
    ReturnLine.objects.bulk_create([
        ReturnLine(ret=ret, order_line_id=line.order_line_id, quantity=line.quantity,
                   reason=line.reason) for line in data.lines])
    events.return_changed(order, actor=actor, number=ret.number, status=ret.status,
                          reason=override)
    opened = {"status": (None, ret.status), "channel": (None, ret.channel)}
    if override:
        opened["override_reason"] = (None, override)
    audit.record_changes(ret, actor=actor, kind=audit.Kind.CREATED, changes=opened)
    return ret


def approve_return(*, return_id: int, actor: Actor) -> Return:
    """Customer service accepts it: the customer is e-mailed the return
    instructions with the RMA label PDF (outbox)."""
    with transaction.atomic(durable=True):
        order, ret = _lock_return(return_id)
        _move(order, ret, "approve", actor=actor, refused_as=_("approved"))
        outbox.enqueue(RMA_LABEL_HANDLER, {"return_id": ret.pk},
                       dedup_key=f"orders:return:{ret.pk}:approved")
    return ret


def refuse_return(*, return_id: int, data: ReturnDecision, actor: Actor) -> Return:
    with transaction.atomic(durable=True):
        order, ret = _lock_return(return_id)
        _move(order, ret, "refuse", actor=actor, refused_as=_("refused"), reason=data.reason,
              refusal=data.reason)
        outbox.enqueue(EMAIL_HANDLER, {"order_id": order.pk, "kind": "return_refused",
                                       "reason": data.reason, "extra": {"number": ret.number}},
                       dedup_key=f"orders:return:{ret.pk}:refused")
    return ret


def open_return_in_transit(*, order_id: int, lines: dict[int, int], tracking_number: str,
                           actor: Actor) -> Return | None:
    """The carrier brings a parcel back ("returned to sender"): a return of
    its units (`lines`: quantity per order line id), waiting for the
    warehouse to scan it in. In the caller's transaction; None when this
    parcel already has one."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        if Return.objects.filter(order=order, tracking_number=tracking_number,
                                 channel=ReturnChannel.CARRIER).exists():
            return None
        # Units a customer's return already names are not counted twice.
        returnable = {line.order_line_id: line.returnable
                      for line in returnable_lines(order_id=order_id).lines}
        wanted = {line_id: min(quantity, returnable.get(line_id, 0))
                  for line_id, quantity in sorted(lines.items())}
        if not any(wanted.values()):
            return None
        data = ReturnRequest.parse({
            "order_id": order_id, "channel": ReturnChannel.CARRIER, "lines": [
                {"order_line_id": line_id, "quantity": quantity,
                 "reason": ReturnReason.RETURNED_TO_SENDER}
                for line_id, quantity in wanted.items() if quantity]})
        return _open(order, data=data, actor=actor, status=ReturnStatus.IN_TRANSIT,
                     tracking_number=tracking_number)


def scan_returned_units(*, return_id: int, sku: str, quantity: int, actor: Actor
                        ) -> ReturnLine:
    """The warehouse scanned `quantity` units of `sku` out of the parcel: they
    count as received on the return's line for that SKU (never more than the
    line's quantity). In the caller's transaction (fulfillment's receiving)."""
    with transaction.atomic():
        _order, ret = _lock_return(return_id)
        if not ret.awaits_goods:
            raise _refuse(ret, _("received"))
        wanted = sku.strip().upper()
        line = next((line for line in ret.lines.select_for_update().select_related("order_line")
                     .order_by("pk") if line.order_line.sku.upper() == wanted
                     and line.received_quantity < line.quantity), None)
        if line is None:
            msg = _("%(sku)s is not expected on return %(number)s (or all its units are "
                    "in).") % {"sku": sku, "number": ret.number}
            raise ApplicationError(msg, field_errors={"sku": [msg]})
        if line.received_quantity + quantity > line.quantity:
            msg = _("Only %(n)d more expected.") % {"n": line.quantity - line.received_quantity}
            raise ApplicationError(msg, field_errors={"quantity": [msg]})
        line.received_quantity += quantity
        line.save(update_fields=["received_quantity"])
    return line


def complete_return_receipt(*, return_id: int, actor: Actor) -> Return:
    """The parcel is unpacked: the return is received with what was scanned
    (at least one unit) and waits for inspection."""
    with transaction.atomic():
        order, ret = _lock_return(return_id)
        if not can_proceed(ret.receive):
            raise _refuse(ret, _("received"))
        units = sum(line.received_quantity for line in ret.lines.all())
        if not units:
            raise ApplicationError(_("Scan at least one unit first."), code="nothing_scanned")
        _move(order, ret, "receive", actor=actor, refused_as=_("received"),
              data={"units": units})
    return ret


@dataclass(frozen=True)
class Inspection:
    """What inspection made of one return line's received units."""

    restock: int = 0
    scrap: int = 0
    to_supplier: int = 0


def inspect_return(*, return_id: int, outcomes: dict[int, Inspection], actor: Actor) -> Return:
    """Each received unit is restocked (back on hand, a ledger row), scrapped
    or kept for the supplier; when every unit is decided the return is
    inspected and waits for its settlement. In the caller's transaction."""
    with transaction.atomic():
        order, ret = _lock_return(return_id)
        if not can_proceed(ret.finish_inspection):
            raise _refuse(ret, _("inspected"))
        lines = {line.pk: line for line in
                 ret.lines.select_for_update().select_related("order_line").order_by("pk")}
        errors: dict[str, list[str]] = {}
        for line_id, outcome in outcomes.items():
            line = lines.get(line_id)
            if line is None:
                errors[f"lines.{line_id}"] = [_("This line is not on the return.")]
                continue
            total = outcome.restock + outcome.scrap + outcome.to_supplier
            if min(outcome.restock, outcome.scrap, outcome.to_supplier) < 0 \
                    or total > line.uninspected_quantity:
                errors[f"lines.{line_id}"] = [_("Decide at most %(n)d units.")
                                              % {"n": line.uninspected_quantity}]
        if errors:
            raise ApplicationError(_("The inspection has errors; nothing was saved."),
                                   field_errors=errors)
        for line_id, outcome in outcomes.items():
            line = lines[line_id]
            if outcome.restock:
                if ret.warehouse_id is None:
                    raise ApplicationError(_("The return names no warehouse to restock."))
                inventory_api.return_stock(
                    product_id=line.order_line.product_id, warehouse_id=ret.warehouse_id,
                    quantity=outcome.restock, reference=ret.number, actor_id=actor_id(actor),
                    reason=_("Customer return %(number)s") % {"number": ret.number})
            line.restocked_quantity += outcome.restock
            line.scrapped_quantity += outcome.scrap
            line.to_supplier_quantity += outcome.to_supplier
            line.save(update_fields=["restocked_quantity", "scrapped_quantity",
                                     "to_supplier_quantity"])
        if all(line.uninspected_quantity == 0 for line in lines.values()):
            _move(order, ret, "finish_inspection", actor=actor, refused_as=_("inspected"),
                  data={"restocked": sum(x.restocked_quantity for x in lines.values()),
                        "scrapped": sum(x.scrapped_quantity for x in lines.values()),
                        "to_supplier": sum(x.to_supplier_quantity for x in lines.values())})
    return ret


def settle_return(*, return_id: int, settlement: str, actor: Actor,
                  amount: Decimal | None = None, credit_note_number: str = "",
                  exchange_order: Order | None = None) -> Return:
    """Billing settled it (refund, store credit, exchange): the return closes.
    In billing's transaction."""
    with transaction.atomic():
        order, ret = _lock_return(return_id)
        data = {"settlement": settlement, "credit_note_number": credit_note_number,
                "exchange_order_number": exchange_order.number if exchange_order else ""}
        if amount is not None:
            data.update(amount=str(amount), currency=order.currency)
        _move(order, ret, "settle", actor=actor, refused_as=_("settled"), data=data,
              settlement=settlement, amount=amount, credit_note_number=credit_note_number,
              exchange_order_id=exchange_order.pk if exchange_order else None)
    return ret


def lock_return(*, return_id: int) -> tuple[Order, Return]:
    """For billing and fulfillment: the order, then the return, locked in the
    caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_return() must run inside a transaction")
    return _lock_return(return_id)


def returned_units(ret: Return) -> list[tuple[OrderLine, int]]:
    """The order lines and how many of their units came back (inspected)."""
    return [(line.order_line, line.inspected_quantity)
            for line in ret.lines.select_related("order_line").order_by("pk")
            if line.inspected_quantity]


def place_replacement_order(*, return_id: int, actor: Actor,
                            exchange: list[tuple[str, int]] | None = None,
                            credit: Decimal | None = None) -> Order:
    """An exchange: a new order for the same customer and address, reserved
    at once. In the caller's transaction (billing's settlement); the system
    approves it.

    Without `exchange`: the returned units again, at no charge (every line
    100 % off). With `exchange` (SKU, units): those products at the
    customer's price list in the order's currency, less `credit` (the
    returned units' net value) as the order's discount: the replacement
    charges what the new goods cost beyond the credit (its own invoice, at
    shipment), or nothing when the credit covers them (billing credits the
    rest on the original invoice). Field errors under `exchange.<n>.sku`.
    """
    with transaction.atomic():
        order, ret = _lock_return(return_id)
        if not ret.awaits_settlement:
            raise _refuse(ret, _("settled"))
        channel = ret.channel if ret.channel in {c.value for c in Channel} else Channel.PHONE
        order_discount, free = None, True
        if exchange:
            goods = exchange_goods(order, exchange)
            free = credit is None or credit >= goods
            lines = [{"sku": sku, "quantity": quantity, "discount": "100%" if free else None}
                     for sku, quantity in exchange]
            order_discount = str(credit) if credit and not free else None
        else:
            lines = [{"sku": line.sku, "quantity": quantity, "discount": "100%"}
                     for line, quantity in returned_units(ret)]
        data = PlaceOrder.parse({
            "customer": order.customer_id, "channel": channel, "currency": order.currency,
            "shipping_address": order.shipping_address,
            "billing_address": order.billing_address, "lines": lines,
            "discount": order_discount,
            "notes": _("Replacement for return %(number)s of order %(order)s.")
            % {"number": ret.number, "order": order.number}})
        replacement = place_order(data, actor=actor)
        reason = (_("Replacement for return %(number)s: nothing to pay.") if free else
                  _("Replacement for return %(number)s: the price difference is invoiced "
                    "when it ships."))
        approve_order(order_id=replacement.pk, actor=None, reason=reason % {"number": ret.number})
        replacement.refresh_from_db()
    return replacement


def exchange_goods(order: Order, exchange: list[tuple[str, int]]) -> Decimal:
    """The net value of the products chosen in exchange, at the customer's
    price list in the order's currency today (what the replacement order
    will price them at); field errors under `exchange.<n>.sku`."""
    products = inventory_api.products_by_sku(skus=[sku for sku, _q in exchange])
    errors: dict[str, list[str]] = {}
    for index, (sku, _quantity) in enumerate(exchange):
        product = products.get(sku)
        if product is None:
            errors[f"exchange.{index}.sku"] = [_("Unknown SKU %(sku)s.") % {"sku": sku}]
        elif not product.is_active:
            errors[f"exchange.{index}.sku"] = [
                _("Product %(sku)s is no longer sold.") % {"sku": sku}]
    if not errors:
        prices = price_lines(customer=order.customer, currency=order.currency,
                             on_date=timezone.localdate(),
                             lines=[LineToPrice(product_id=products[sku].id, quantity=quantity)
                                    for sku, quantity in exchange])
        for index, ((sku, _quantity), price) in enumerate(zip(exchange, prices, strict=True)):
            if price is None:
                errors[f"exchange.{index}.sku"] = [no_price_error(sku=sku,
                                                                  currency=order.currency)]
    if errors:
        raise ApplicationError(_("Please correct the items given in exchange."),
                               field_errors=errors)
    return sum((quantize_money(price.unit_price * quantity, order.currency)
                for (_sku, quantity), price in zip(exchange, prices, strict=True)
                if price is not None), ZERO)
