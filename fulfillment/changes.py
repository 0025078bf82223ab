"""Pick lists in step with a change of the order (orders.services.changes).

Registered with orders in `FulfillmentConfig.ready()`; orders calls it inside
its change's transaction, after locking the order row, so a pick, a pack or
a ship of the same order either committed before (the change sees it and a
stale preview is refused) or waits for the change.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from fulfillment.models import PickList, PickListLine, Shipment
from inventory.models import BinLocation
from orders.models import OrderLine
from orders.services.change_plan import LineWork


def _live_lines(order_id: int):
    """The order's pick lines whose units have not left: open, picked or
    short, not packed yet or packed and waiting for the carrier."""
    return (PickListLine.objects.filter(order_id=order_id)
            .exclude(status=PickListLine.Status.CANCELLED)
            .filter(Q(shipment__isnull=True) | Q(shipment__status=Shipment.Status.PACKED)))


class PickListWork:
    """`orders.services.changes.WarehouseWork` over pick lists."""

    def read(self, *, order_id: int, lock: bool) -> dict[tuple[int, int], LineWork]:
        if lock:
            # The pick lists before their lines, as a scan takes them.
            list(PickList.objects.select_for_update().filter(
                pk__in=PickListLine.objects.filter(order_id=order_id).values("pick_list_id"),
                status=PickList.Status.OPEN).order_by("pk").values_list("pk", flat=True))
        picked: dict[tuple[int, int], int] = defaultdict(int)
        listed: dict[tuple[int, int], int] = defaultdict(int)
        # Where picked units not packed yet can be put back (an unpick).
        unpick_from: dict[tuple[int, int], set[tuple[int, str]]] = defaultdict(set)
        for (line_id, warehouse_id, status, quantity, done, list_status, pick_list_id,
             shipment_id) in _live_lines(order_id).values_list(
                "order_line_id", "pick_list__warehouse_id", "status", "quantity",
                "quantity_picked", "pick_list__status", "pick_list_id", "shipment_id"):
            picked[(line_id, warehouse_id)] += done
            if done and shipment_id is None:
                unpick_from[(line_id, warehouse_id)].add(
                    (pick_list_id, PickList(pk=pick_list_id).number))
            if status == PickListLine.Status.OPEN and list_status == PickList.Status.OPEN:
                listed[(line_id, warehouse_id)] += quantity - done
        return {key: LineWork(picked=picked[key], listed=listed[key],
                              unpick_from=tuple(sorted(unpick_from[key])))
                for key in set(picked) | set(listed) if picked[key] or listed[key]}

    def shrink(self, *, order_id: int, units: dict[tuple[int, int], int]) -> None:
        touched: set[int] = set()
        for (line_id, warehouse_id), quantity in sorted(units.items()):
            left = quantity
            for line in (PickListLine.objects.select_for_update()
                         .filter(order_id=order_id, order_line_id=line_id,
                                 status=PickListLine.Status.OPEN,
                                 pick_list__status=PickList.Status.OPEN,
                                 pick_list__warehouse_id=warehouse_id).order_by("-pk")):
                if not left:
                    break
                take = min(left, line.remaining)
                left -= take
                touched.add(line.pick_list_id)
                if take < line.remaining:
                    line.quantity -= take
                elif line.quantity_picked:
                    line.quantity, line.status = line.quantity_picked, PickListLine.Status.PICKED
                else:  # nothing of it is wanted any more
                    line.status = PickListLine.Status.CANCELLED
                line.save(update_fields=["quantity", "status"])
        for pick_list in PickList.objects.filter(pk__in=touched).order_by("pk"):
            if not pick_list.lines.exclude(status=PickListLine.Status.CANCELLED).exists():
                pick_list.cancel()
                pick_list.save(update_fields=["status", "completed_at"])

    def grow(self, *, order_id: int, units: dict[tuple[int, int], int]) -> None:
        lines = {line.pk: line for line in OrderLine.objects.filter(
            pk__in={line_id for line_id, _w in units})}
        for (line_id, warehouse_id), quantity in sorted(units.items()):
            pick_list = (PickList.objects.filter(
                status=PickList.Status.OPEN, warehouse_id=warehouse_id,
                pk__in=PickListLine.objects.filter(order_id=order_id).values("pick_list_id"))
                .order_by("-pk").first())
            if pick_list is None:  # not being picked there: the next pick list takes it
                continue
            open_line = (PickListLine.objects.select_for_update()
                         .filter(pick_list=pick_list, order_line_id=line_id,
                                 status=PickListLine.Status.OPEN).first())
            if open_line is not None:
                open_line.quantity += quantity
                open_line.save(update_fields=["quantity"])
                continue
            line = lines[line_id]
            bin_code = (BinLocation.objects.filter(warehouse_id=warehouse_id,
                                                   product_id=line.product_id)
                        .values_list("code", flat=True).first() or "")
            PickListLine.objects.create(pick_list=pick_list, order_id=order_id, order_line=line,
                                        product_id=line.product_id, sku=line.sku,
                                        name=line.name, bin_code=bin_code, quantity=quantity)
