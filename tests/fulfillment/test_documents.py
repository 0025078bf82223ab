"""The warehouse PDFs, read back with pypdf."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from fulfillment import documents, services
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.fulfillment import (
    CarrierServiceFactory,
    packed_order,
    reserved_order,
    shelved_product,
)
from tests.factories.inventory import WarehouseFactory

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_pick_list_pdf_lists_bins_skus_and_orders():
    main = WarehouseFactory(code="MAIN")
    first = shelved_product(main, bin_code="A-01-1", sku="PDF-AAA")
    second = shelved_product(main, bin_code="B-02-2", sku="PDF-BBB", is_fragile=True)
    one = reserved_order([(first, 2), (second, 1)])
    two = reserved_order([(first, 5)])
    pick_list = services.create_pick_list(warehouse_id=main.pk, order_ids=[one.pk, two.pk],
                                          actor=None)
    text = _text(documents.pick_list_pdf(pick_list_id=pick_list.pk))
    for expected in (pick_list.number, "A-01-1", "B-02-2", "PDF-AAA", "PDF-BBB", one.number,
                     two.number, "FRAGILE"):  # the CSS upper-cases the flag
        assert expected in text
    assert text.index("PDF-AAA") < text.index("PDF-BBB")  # walk order


def test_packing_slip_and_label_carry_the_customers_address():
    customer = CustomerFactory(name="Amélie Poulain")
    address = address_data(name="Amélie Poulain", line1="15 Rue des Trois Frères",
                           postal_code="75018", city="Paris", country="FR")
    main = WarehouseFactory(code="MAIN")
    product = shelved_product(main, bin_code="A-1", sku="SLIP-001")
    order, shipment = packed_order([(product, 2)], warehouse=main, customer=customer,
                                   shipping_address=address)
    slip = _text(documents.packing_slip_pdf(shipment_id=shipment.pk))
    for expected in ("Amélie Poulain", "15 Rue des Trois Frères", "75018 Paris", "SLIP-001",
                     order.number):
        assert expected in slip
    service = CarrierServiceFactory(carrier__name="Colis Rapide")
    services.ship(shipment_id=shipment.pk,
                  data=services.Handover.parse(carrier_service_id=service.pk,
                                               tracking_number="CR123456789"),
                  actor=None)
    label = _text(documents.shipping_label_pdf(shipment_id=shipment.pk))
    for expected in ("Amélie Poulain", "15 Rue des Trois Frères", "75018 Paris",
                     "Colis Rapide", "CR123456789"):
        assert expected in label
