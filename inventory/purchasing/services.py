"""Writes of purchasing: create, send, cancel, receive and reschedule
purchase orders.

Each service locks the purchase order row (`lock_purchase_order`) before it
reads its state, calls the transition method, saves, and writes its event
through `inventory.purchasing.events`, in one transaction; the PDF and the
supplier e-mail go through the outbox. Plain `atomic()`: receiving is
composed by `fulfillment.receiving`, which gives the received units to
waiting backorders in the same transaction.

Lock order: purchase order row, then its lines (id order), then stock levels
(`inventory.api.locks.lock_stock_levels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from inventory.api.movements import receive_purchased
from inventory.models import Product, StockMovement, Warehouse
from inventory.purchase_models import (
    PURCHASE_ORDER_NUMBER_SEQUENCE,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    Supplier,
    SupplierProduct,
    expected_date_for,
)
from inventory.purchasing import events
from inventory.purchasing.inputs import (
    CancelPurchase,
    NewPurchaseOrder,
    PurchaseScan,
    Reschedule,
)
from oms.lib import outbox
from oms.lib.actors import Actor, actor_id
from oms.lib.errors import ApplicationError, NotAllowed

SEND_HANDLER = "inventory.send_purchase_order"


class PurchaseOrderNotFound(ApplicationError):
    status = 404


def next_purchase_order_number() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [PURCHASE_ORDER_NUMBER_SEQUENCE])
        (value,) = cursor.fetchone()
    return f"PO-{timezone.localdate().year}-{value:05d}"


def lock_purchase_order(*, purchase_order_id: int) -> PurchaseOrder:
    """The purchase order row, locked for the rest of the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_purchase_order() must run inside a transaction")
    purchase_order = (PurchaseOrder.objects.select_for_update(of=("self",))
                      .select_related("supplier", "warehouse")
                      .filter(pk=purchase_order_id).first())
    if purchase_order is None:
        raise PurchaseOrderNotFound(_("Purchase order not found."), code="not_found")
    return purchase_order


def _refuse(purchase_order: PurchaseOrder, action: str) -> NotAllowed:
    return NotAllowed(
        _("Purchase order %(number)s is %(status)s and cannot be %(action)s.")
        % {"number": purchase_order.number,
           "status": purchase_order.get_status_display().lower(), "action": action},
        code="illegal_transition")


def _transition(purchase_order: PurchaseOrder, method_name: str, *, actor: Actor,
                refused_as: str, reason: str = "", data: dict | None = None) -> None:
    method = getattr(purchase_order, method_name)
    if not can_proceed(method):
        raise _refuse(purchase_order, refused_as)
    from_status = purchase_order.status
    method()
    purchase_order.save(update_fields=["status", "sent_at", "closed_at"])
    events.status_changed(purchase_order, actor=actor, from_status=from_status,
                          reason=reason, data=data)


def _field_error(path: str, message: str) -> ApplicationError:
    return ApplicationError(message, field_errors={path: [message]})


def create_purchase_order(*, data: NewPurchaseOrder, actor: Actor) -> PurchaseOrder:
    """A draft purchase order; a line's cost and expected date default to
    the supplier's cost and today plus its lead time."""
    with transaction.atomic():
        supplier = Supplier.objects.filter(pk=data.supplier_id, is_active=True).first()
        if supplier is None:
            raise _field_error("supplier_id", _("Choose an active supplier."))
        warehouse = Warehouse.objects.filter(pk=data.warehouse_id, is_active=True).first()
        if warehouse is None:
            raise _field_error("warehouse_id", _("Choose an open warehouse."))
        product_ids = [line.product_id for line in data.lines]
        products = Product.objects.in_bulk(product_ids)
        offers = {offer.product_id: offer for offer in
                  SupplierProduct.objects.filter(supplier=supplier, product_id__in=product_ids)}
        errors: dict[str, list[str]] = {}
        seen: set[int] = set()
        for index, line in enumerate(data.lines):
            if line.product_id not in products:
                errors[f"lines.{index}.product_id"] = [_("This product does not exist.")]
            elif line.product_id in seen:
                errors[f"lines.{index}.product_id"] = [_("This product is on another line.")]
            elif line.product_id not in offers and line.unit_cost is None:
                errors[f"lines.{index}.unit_cost"] = [
                    _("%(supplier)s has no cost for this product: enter one.")
                    % {"supplier": supplier.name}]
            seen.add(line.product_id)
        if errors:
            raise ApplicationError(str(NewPurchaseOrder.error_message), field_errors=errors)
        purchase_order = PurchaseOrder.objects.create(
            number=next_purchase_order_number(), supplier=supplier, warehouse=warehouse,
            currency=supplier.currency, notes=data.notes,
            created_by=actor if getattr(actor, "pk", None) else None)
        lines = []
        for position, line in enumerate(data.lines, start=1):
            product, offer = products[line.product_id], offers.get(line.product_id)
            lines.append(PurchaseOrderLine(
                purchase_order=purchase_order, position=position, product=product,
                sku=product.sku, name=product.name,
                supplier_sku=offer.supplier_sku if offer else "",
                quantity_ordered=line.quantity,
                unit_cost=_cost(line.unit_cost, offer),
                expected_date=line.expected_date or expected_date_for(
                    offer.lead_time_days if offer else 0)))
        PurchaseOrderLine.objects.bulk_create(lines)
        events.created(purchase_order, actor=actor, lines=len(lines))
    return purchase_order


def _cost(typed: Decimal | None, offer: SupplierProduct | None) -> Decimal:
    if typed is not None:
        return typed
    assert offer is not None  # create_purchase_order refuses a line with neither
    return offer.unit_cost


def create_purchase_orders(*, orders: list[NewPurchaseOrder], actor: Actor
                           ) -> list[PurchaseOrder]:
    """Several drafts in one transaction (the buying proposal: one per
    supplier); a refusal of any writes none, its field errors prefixed
    `orders.<n>.`."""
    created = []
    with transaction.atomic():
        for index, data in enumerate(orders):
            try:
                created.append(create_purchase_order(data=data, actor=actor))
            except ApplicationError as exc:
                exc.field_errors = {f"orders.{index}.{path}": messages
                                    for path, messages in exc.field_errors.items()}
                raise
    return created


def send_purchase_order(*, purchase_order_id: int, actor: Actor) -> PurchaseOrder:
    """draft -> sent; the PDF is rendered, stored and e-mailed to the
    supplier after commit (outbox)."""
    with transaction.atomic():
        purchase_order = lock_purchase_order(purchase_order_id=purchase_order_id)
        _transition(purchase_order, "send", actor=actor, refused_as=_("sent"))
        outbox.enqueue(SEND_HANDLER, {"purchase_order_id": purchase_order.pk},
                       dedup_key=f"inventory:po-send:{purchase_order.pk}")
    return purchase_order


def cancel_purchase_order(*, purchase_order_id: int, reason: str, actor: Actor
                          ) -> PurchaseOrder:
    """draft | sent -> cancelled: no goods are expected any more."""
    reason = CancelPurchase.parse({"reason": reason}).reason
    with transaction.atomic():
        purchase_order = lock_purchase_order(purchase_order_id=purchase_order_id)
        _transition(purchase_order, "cancel", actor=actor, refused_as=_("cancelled"),
                    reason=reason)
    return purchase_order


@dataclass(frozen=True)
class Receipt:
    """What one scan did: the receipt row, its line and the stock movement."""

    purchase_order: PurchaseOrder
    line: PurchaseOrderLine
    receipt: PurchaseReceipt
    movement: StockMovement

    @property
    def product_id(self) -> int:
        return self.line.product_id


def _line_for_scan(purchase_order: PurchaseOrder, sku: str) -> PurchaseOrderLine:
    """The line whose SKU (ours or the supplier's) was scanned, locked."""
    line = (PurchaseOrderLine.objects.select_for_update()
            .filter(Q(sku__iexact=sku) | Q(supplier_sku__iexact=sku),
                    purchase_order=purchase_order).order_by("pk").first())
    if line is None:
        raise _field_error("sku", _("%(sku)s is not on purchase order %(number)s.")
                           % {"sku": sku, "number": purchase_order.number})
    return line


def scanned_product_ids(*, purchase_order_id: int, sku: str) -> list[int]:
    """The products a scan may name on this purchase order (no lock), so a
    caller can lock what depends on them first."""
    return list(PurchaseOrderLine.objects.filter(
        Q(sku__iexact=sku) | Q(supplier_sku__iexact=sku), purchase_order_id=purchase_order_id)
        .values_list("product_id", flat=True))


def receive_on_purchase_order(*, purchase_order_id: int, data: PurchaseScan, actor: Actor
                              ) -> Receipt:
    """Units of one line arrived: stock goes up (ledger RECEIPT), the receipt
    records any units beyond what was still expected, and the purchase order
    becomes partly received, or received once every line is complete.

    Plain `atomic()`: `fulfillment.receiving.receive_goods` runs it and
    allocates the units to waiting backorders in the same transaction."""
    with transaction.atomic():
        purchase_order = lock_purchase_order(purchase_order_id=purchase_order_id)
        if not purchase_order.is_receivable:
            raise _refuse(purchase_order, _("received"))
        line = _line_for_scan(purchase_order, data.sku)
        over = max(data.quantity - line.outstanding, 0)
        line.quantity_received += data.quantity
        line.save(update_fields=["quantity_received"])
        receipt = PurchaseReceipt.objects.create(
            line=line, quantity=data.quantity, over_quantity=over,
            actor=actor if getattr(actor, "pk", None) else None)
        movement = receive_purchased(
            product_id=line.product_id, warehouse_id=purchase_order.warehouse_id,
            quantity=data.quantity, actor_id=actor_id(actor), reference=purchase_order.number,
            reason=_("Received on %(number)s") % {"number": purchase_order.number})
        events.goods_received(purchase_order, actor=actor, sku=line.sku,
                              quantity=data.quantity, over=over)
        complete = not PurchaseOrderLine.objects.filter(
            purchase_order=purchase_order, quantity_received__lt=F("quantity_ordered")
        ).exists()
        if complete:
            _transition(purchase_order, "finish_receiving", actor=actor,
                        refused_as=_("received"), data=_shortfall(purchase_order))
        elif purchase_order.status != "partly_received":
            _transition(purchase_order, "receive_part", actor=actor, refused_as=_("received"))
    return Receipt(purchase_order=purchase_order, line=line, receipt=receipt,
                   movement=movement)


def _shortfall(purchase_order: PurchaseOrder) -> dict:
    """Per SKU, what arrived against what was ordered, for lines that differ."""
    return {"lines": [
        {"sku": line.sku, "ordered": line.quantity_ordered, "received": line.quantity_received}
        for line in purchase_order.lines.order_by("position")
        if line.quantity_received != line.quantity_ordered]}


def close_receiving(*, purchase_order_id: int, actor: Actor, reason: str = "") -> PurchaseOrder:
    """partly received -> received with lines short: the missing units are no
    longer expected, and the history records what each line lacked."""
    with transaction.atomic():
        purchase_order = lock_purchase_order(purchase_order_id=purchase_order_id)
        if purchase_order.status != "partly_received":
            raise _refuse(purchase_order, _("closed"))
        _transition(purchase_order, "finish_receiving", actor=actor, refused_as=_("closed"),
                    reason=reason, data=_shortfall(purchase_order))
    return purchase_order


def reschedule_line(*, line_id: int, expected_date: Any, actor: Actor) -> PurchaseOrderLine:
    """The supplier announced another date for a line's outstanding units."""
    new_date = Reschedule.parse({"expected_date": expected_date}).expected_date
    with transaction.atomic():
        purchase_order_id = (PurchaseOrderLine.objects.filter(pk=line_id)
                             .values_list("purchase_order_id", flat=True).first())
        if purchase_order_id is None:
            raise PurchaseOrderNotFound(_("Purchase order line not found."), code="not_found")
        purchase_order = lock_purchase_order(purchase_order_id=purchase_order_id)
        if not purchase_order.is_open:
            raise _refuse(purchase_order, _("rescheduled"))
        line = PurchaseOrderLine.objects.select_for_update().get(pk=line_id)
        before = line.expected_date
        line.expected_date = new_date
        line.save(update_fields=["expected_date"])
        events.rescheduled(purchase_order, actor=actor, sku=line.sku,
                           before=before.isoformat(), after=new_date.isoformat())
    return line
