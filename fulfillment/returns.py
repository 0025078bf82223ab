"""Goods coming back: the warehouse scans a return's parcel in, like
picking, then inspects every unit (restock, scrap, back to the supplier).

Each screen action is one durable transaction around the orders services
that own the return's state (`orders.services.returns`); restocking puts the
units back on hand with a ledger row (`inventory.api.return_stock`).
"""

from __future__ import annotations

from django.db import transaction

from fulfillment.inputs import InspectionInput, PickScan
from oms.lib.actors import Actor
from orders.models import Return, ReturnLine
from orders.services import returns as return_services


def scan_return(*, return_id: int, data: PickScan, actor: Actor) -> ReturnLine:
    """One scan on the return's receiving screen."""
    with transaction.atomic(durable=True):
        return return_services.scan_returned_units(
            return_id=return_id, sku=data.sku, quantity=data.quantity, actor=actor)


def finish_receiving(*, return_id: int, actor: Actor) -> Return:
    """Everything in the parcel is scanned: the return waits for inspection."""
    with transaction.atomic(durable=True):
        return return_services.complete_return_receipt(return_id=return_id, actor=actor)


def inspect(*, return_id: int, data: InspectionInput, actor: Actor) -> Return:
    """Decide received units; restocked ones go back on hand (ledger row)."""
    with transaction.atomic(durable=True):
        return return_services.inspect_return(return_id=return_id, actor=actor, outcomes={
            line_id: return_services.Inspection(restock=restock, scrap=scrap,
                                                to_supplier=supplier)
            for line_id, (restock, scrap, supplier) in data.lines.items()})
