"""Returned goods in the warehouse: scanned in like picking, each unit
inspected (restocked with a ledger row, scrapped, or kept for the supplier),
and a carrier's "returned to sender" opening a return in transit."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from fulfillment import returns as warehouse_returns
from fulfillment import services
from fulfillment.inputs import InspectionInput, PickScan
from inventory.models import StockLevel, StockMovement
from oms.lib.errors import ApplicationError, NotAllowed
from orders.inputs import ReturnRequest
from orders.models import EventKind, Return, ReturnChannel, ReturnStatus
from orders.services import returns as return_services
from tests.factories.fulfillment import shipped_order
from tests.inventory.test_ledger import assert_ledger_holds

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order, shipment = shipped_order()
    line = order.lines.get()
    ret = return_services.request_return(actor=None, data=ReturnRequest.parse({
        "order_id": order.pk, "channel": "phone",
        "lines": [{"order_line_id": line.pk, "quantity": 2, "reason": "damaged"}]}))
    return_services.approve_return(return_id=ret.pk, actor=None)
    ret.refresh_from_db()
    return ret


def _scan(ret, sku, quantity=1):
    return warehouse_returns.scan_return(return_id=ret.pk, actor=None,
                                         data=PickScan(sku=sku, quantity=quantity))


def test_scanning_counts_units_and_finishing_receives_the_return(approved):
    sku = approved.lines.get().order_line.sku
    _scan(approved, sku.lower())
    with pytest.raises(ApplicationError) as wrong:
        _scan(approved, "NOPE-1")
    assert "sku" in wrong.value.field_errors
    with pytest.raises(ApplicationError) as too_many:
        _scan(approved, sku, 2)
    assert "quantity" in too_many.value.field_errors
    ret = warehouse_returns.finish_receiving(return_id=approved.pk, actor=None)
    assert ret.status == ReturnStatus.RECEIVED and ret.received_at
    assert ret.lines.get().received_quantity == 1
    assert "Received" in approved.order.events.filter(kind=EventKind.RETURN).last().summary
    with pytest.raises(NotAllowed):
        _scan(approved, sku)


def test_nothing_scanned_cannot_be_received(approved):
    with pytest.raises(ApplicationError):
        warehouse_returns.finish_receiving(return_id=approved.pk, actor=None)
    approved.refresh_from_db()
    assert approved.status == ReturnStatus.APPROVED


def test_restock_writes_a_ledger_row_and_scrap_does_not_restock(approved):
    line = approved.lines.get()
    product, warehouse = line.order_line.product, approved.warehouse
    _scan(approved, line.order_line.sku, 2)
    warehouse_returns.finish_receiving(return_id=approved.pk, actor=None)
    before = StockLevel.objects.get(product=product, warehouse=warehouse).on_hand
    ret = warehouse_returns.inspect(return_id=approved.pk, actor=None,
                                    data=InspectionInput(lines={line.pk: (1, 0, 0)}))
    assert ret.status == ReturnStatus.RECEIVED  # one unit still undecided
    ret = warehouse_returns.inspect(return_id=approved.pk, actor=None,
                                    data=InspectionInput(lines={line.pk: (0, 1, 0)}))
    assert ret.status == ReturnStatus.INSPECTED
    line.refresh_from_db()
    assert (line.restocked_quantity, line.scrapped_quantity) == (1, 1)
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == before + 1
    movement = StockMovement.objects.get(product=product, kind=StockMovement.Kind.RETURN)
    assert (movement.quantity, movement.reference) == (1, approved.number)
    assert_ledger_holds([product], [warehouse])
    assert StockMovement.objects.filter(product=product).aggregate(t=Sum("quantity"))["t"] \
        == StockLevel.objects.get(product=product, warehouse=warehouse).on_hand


def test_inspection_refuses_more_units_than_received_and_saves_nothing(approved):
    line = approved.lines.get()
    _scan(approved, line.order_line.sku, 1)
    warehouse_returns.finish_receiving(return_id=approved.pk, actor=None)
    with pytest.raises(ApplicationError) as too_many:
        warehouse_returns.inspect(return_id=approved.pk, actor=None,
                                  data=InspectionInput(lines={line.pk: (1, 0, 1)}))
    assert f"lines.{line.pk}" in too_many.value.field_errors
    with pytest.raises(ApplicationError) as bad:
        InspectionInput.from_form({f"restock-{line.pk}": "x"}, [line.pk])
    assert f"restock-{line.pk}" in bad.value.field_errors
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.RETURN).exists()
    ret = warehouse_returns.inspect(return_id=approved.pk, actor=None,
                                    data=InspectionInput(lines={line.pk: (0, 0, 1)}))
    assert ret.status == ReturnStatus.INSPECTED
    assert ret.lines.get().to_supplier_quantity == 1
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.RETURN).exists()


def test_returned_to_sender_opens_a_return_in_transit_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order, shipment = shipped_order(tracking_number="1ZBACK0001")
    event = services.CarrierEvent(carrier_code=shipment.carrier_service.carrier.code,
                                  tracking_number="1ZBACK0001", status="returned",
                                  description="Addressee unknown")
    services.record_carrier_event(event)
    services.record_carrier_event(event)  # the carrier repeats itself
    ret = Return.objects.get()
    assert ret.status == ReturnStatus.IN_TRANSIT and ret.channel == ReturnChannel.CARRIER
    assert ret.tracking_number == "1ZBACK0001"
    assert ret.lines.get().quantity == 2 and ret.lines.get().reason == "returned_to_sender"
    assert ret.awaits_goods
    _scan(ret, ret.lines.get().order_line.sku, 2)
    assert warehouse_returns.finish_receiving(return_id=ret.pk, actor=None).status \
        == ReturnStatus.RECEIVED
