"""The purchase order history's writers: one function per event kind, each
one row in the caller's transaction with the facts in its payload."""

from __future__ import annotations

from inventory.purchase_models import PurchaseEventKind, PurchaseOrder, PurchaseOrderEvent
from oms.lib.actors import Actor, actor_id


def _event(purchase_order: PurchaseOrder, kind: str, *, actor: Actor, reason: str = "",
           from_status: str = "", to_status: str = "",
           data: dict | None = None) -> PurchaseOrderEvent:
    return PurchaseOrderEvent.objects.create(
        purchase_order=purchase_order, kind=kind, actor_id=actor_id(actor), reason=reason,
        from_status=from_status, to_status=to_status, data=data or {})


def created(purchase_order: PurchaseOrder, *, actor: Actor, lines: int) -> PurchaseOrderEvent:
    return _event(purchase_order, PurchaseEventKind.CREATED, actor=actor,
                  to_status=purchase_order.status, data={"lines": lines})


def status_changed(purchase_order: PurchaseOrder, *, actor: Actor, from_status: str,
                   reason: str = "", data: dict | None = None) -> PurchaseOrderEvent:
    return _event(purchase_order, PurchaseEventKind.STATUS_CHANGED, actor=actor,
                  from_status=from_status, to_status=purchase_order.status, reason=reason,
                  data=data)


def goods_received(purchase_order: PurchaseOrder, *, actor: Actor, sku: str, quantity: int,
                   over: int) -> PurchaseOrderEvent:
    return _event(purchase_order, PurchaseEventKind.RECEIVED, actor=actor,
                  data={"sku": sku, "quantity": quantity, "over": over})


def rescheduled(purchase_order: PurchaseOrder, *, actor: Actor, sku: str, before: str,
                after: str) -> PurchaseOrderEvent:
    return _event(purchase_order, PurchaseEventKind.RESCHEDULED, actor=actor,
                  data={"sku": sku, "from": before, "to": after})


def emailed(purchase_order: PurchaseOrder, *, to: str, outbox_message_id: int
            ) -> PurchaseOrderEvent:
    return _event(purchase_order, PurchaseEventKind.EMAIL, actor=None,
                  data={"to": to, "outbox_message_id": outbox_message_id})
