"""The typed inputs of the warehouse services: form values in, every field
error at once out; and the status that only transitions change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fulfillment.inputs import Handover, Packing, PickScan
from oms.lib.errors import ApplicationError
from tests.factories.fulfillment import CarrierServiceFactory, packed_order

pytestmark = pytest.mark.django_db


def test_an_empty_quantity_is_one_unit_and_a_bad_one_is_refused():
    assert PickScan.parse(sku=" MUG ", quantity="") == PickScan(sku="MUG", quantity=1)
    with pytest.raises(ApplicationError) as refused:
        PickScan.parse(sku="", quantity="two")
    assert set(refused.value.field_errors) == {"sku", "quantity"}


def test_a_weight_is_read_with_a_comma_and_rounded_to_the_gram():
    assert Packing.parse(package_type="box", weight="1,23456").weight_kg == Decimal("1.235")
    with pytest.raises(ApplicationError) as refused:
        Packing.parse(package_type="box", weight="5000.001")
    assert set(refused.value.field_errors) == {"weight"}


def test_a_blank_cost_is_the_list_price_and_zero_is_free():
    service = CarrierServiceFactory(price=Decimal("7.50"))
    blank = Handover.parse(carrier_service_id=service.pk, tracking_number=" T-1 ")
    assert (blank.tracking_number, blank.cost) == ("T-1", Decimal("7.50"))
    free = Handover.parse(carrier_service_id=str(service.pk), tracking_number="T-2",
                          shipping_cost="0")
    assert free.cost == Decimal("0.00")
    with pytest.raises(ApplicationError) as refused:
        Handover.parse(carrier_service_id=service.pk, tracking_number="T-3",
                       shipping_cost="free")
    assert set(refused.value.field_errors) == {"shipping_cost"}


def test_a_shipment_status_changes_only_through_its_transitions():
    _order, shipment = packed_order()
    with pytest.raises(AttributeError):
        shipment.status = "delivered"
    assert shipment.is_packed and not shipment.is_shipped
