"""Buying and goods-in screens over HTTP: roles, what to buy, the purchase
order page and its actions, the receiving scan (htmx), refusals that change
nothing, the late-order list and the expected date on the order page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import PurchaseOrder, PurchaseReceipt, StockMovement
from orders.models import OrderStatus
from tests.factories.inventory import WarehouseFactory
from tests.factories.purchasing import SupplierProductFactory, backordered_order, purchase_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def main():
    return WarehouseFactory(code="MAIN")


@pytest.fixture
def offer():
    return SupplierProductFactory(supplier_sku="VEND-1", lead_time_days=4)


@pytest.mark.parametrize("role, status", [("Buyer", 200), ("Manager", 403), ("Sales", 403),
                                          ("Warehouse", 403)])
def test_only_buyers_see_what_to_buy(client_for, role, status):
    assert client_for(role).get(reverse("fulfillment:to_buy")).status_code == status


def test_buyer_creates_and_sends_purchase_orders_from_the_proposal(client_for, main, offer):
    order = backordered_order(offer.product, 3)
    client = client_for("Buyer")
    page = client.get(reverse("fulfillment:to_buy")).content.decode()
    assert offer.product.sku in page and offer.supplier.name in page
    field = f"quantity_{offer.product_id}_{offer.supplier_id}"
    assert f'name="{field}"' in page
    response = client.post(reverse("fulfillment:create_from_proposal"),
                           {"warehouse": main.pk, field: "6"})
    assert response.status_code == 302
    po = PurchaseOrder.objects.get()
    assert po.lines.get().quantity_ordered == 6 and po.status == "draft"
    detail = client.get(reverse("fulfillment:purchase_order", args=[po.pk])).content.decode()
    assert po.number in detail and "VEND-1" in detail
    response = client.post(reverse("fulfillment:send_purchase_order", args=[po.pk]))
    assert response.status_code == 302
    po.refresh_from_db()
    assert po.status == "sent"
    pdf = client.get(reverse("fulfillment:purchase_order_pdf", args=[po.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # The order page shows when the stock for the waiting line is expected.
    order_page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    expected = po.lines.get().expected_date
    assert f"expected {expected:%d/%m/%Y}" in order_page


def test_a_bad_quantity_comes_back_on_its_field(client_for, main, offer):
    backordered_order(offer.product, 3)
    field = f"quantity_{offer.product_id}_{offer.supplier_id}"
    response = client_for("Buyer").post(reverse("fulfillment:create_from_proposal"),
                                        {"warehouse": main.pk, field: "-4"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="-4"' in page and "greater than zero" in page
    assert not PurchaseOrder.objects.exists()


def test_warehouse_receives_by_scan_and_the_waiting_order_gets_its_stock(client_for, main,
                                                                         offer):
    order = backordered_order(offer.product, 2)
    po = purchase_order(offer.supplier, main, [(offer.product, 5)])
    client = client_for("Warehouse")
    page = client.get(reverse("fulfillment:receiving", args=[po.pk]))
    assert page.status_code == 200 and 'id="scan-sku"' in page.content.decode()
    response = client.post(reverse("fulfillment:receive_scan", args=[po.pk]),
                           {"sku": "vend-1", "quantity": "3"}, HTTP_HX_REQUEST="true",
                           HTTP_HX_TARGET="receive-panel")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="receive-panel"' in body and "<html" not in body
    assert "3 x" in body and "1 waiting order line got its units" in body
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED
    po.refresh_from_db()
    assert po.status == "partly_received"


@pytest.mark.parametrize("data, message", [
    ({"sku": "NOPE", "quantity": "1"}, "is not on purchase order"),
    ({"sku": "VEND-1", "quantity": "-2"}, "greater than zero"),
    ({"sku": "VEND-1", "quantity": "abc"}, "whole number"),
    ({"sku": "", "quantity": "1"}, "required"),
])
def test_a_bad_scan_answers_400_and_changes_nothing(client_for, main, offer, data, message):
    po = purchase_order(offer.supplier, main, [(offer.product, 5)])
    response = client_for("Warehouse").post(
        reverse("fulfillment:receive_scan", args=[po.pk]), data, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="receive-panel")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response["HX-Retarget"] == "#receive-panel"
    assert not PurchaseReceipt.objects.exists()
    assert not StockMovement.objects.exists()


def test_receiving_on_a_cancelled_purchase_order_answers_409(client_for, main, offer):
    po = purchase_order(offer.supplier, main, [(offer.product, 5)])
    client = client_for("Buyer")
    client.post(reverse("fulfillment:cancel_purchase_order", args=[po.pk]),
                {"reason": "Supplier out of business"})
    po.refresh_from_db()
    assert po.status == "cancelled"
    receiver = client_for("Warehouse")
    response = receiver.post(reverse("fulfillment:receive_scan", args=[po.pk]),
                             {"sku": "VEND-1", "quantity": "1"}, HTTP_HX_REQUEST="true",
                             HTTP_HX_TARGET="receive-panel")
    assert response.status_code == 409
    assert not StockMovement.objects.exists()


def test_a_cancel_without_reason_is_refused(client_for, main, offer):
    po = purchase_order(offer.supplier, main, [(offer.product, 5)])
    response = client_for("Buyer").post(reverse("fulfillment:cancel_purchase_order",
                                                args=[po.pk]), {"reason": ""})
    assert response.status_code == 400
    assert PurchaseOrder.objects.get(pk=po.pk).status == "sent"


def test_the_buyer_reschedules_a_line_and_the_order_shows_as_late(client_for, main, offer):
    promised = timezone.localdate() + timedelta(days=6)
    order = backordered_order(offer.product, 2, promised_delivery_date=promised)
    po = purchase_order(offer.supplier, main, [(offer.product, 5)])
    line = po.lines.get()
    client = client_for("Buyer")
    response = client.post(reverse("fulfillment:reschedule_line", args=[po.pk, line.pk]),
                           {"expected_date": (promised + timedelta(days=9)).isoformat()})
    assert response.status_code == 302
    bad = client.post(reverse("fulfillment:reschedule_line", args=[po.pk, line.pk]),
                      {"expected_date": "not-a-date"})
    assert bad.status_code == 400
    sales = client_for("Sales")
    page = sales.get(reverse("fulfillment:late_orders")).content.decode()
    assert order.number in page and "after the promised date" in page


def test_a_line_of_another_purchase_order_is_not_found(client_for, main, offer):
    one = purchase_order(offer.supplier, main, [(offer.product, 5)])
    two = purchase_order(offer.supplier, main, [(offer.product, 5)])
    response = client_for("Buyer").post(
        reverse("fulfillment:reschedule_line", args=[one.pk, two.lines.get().pk]),
        {"expected_date": timezone.localdate().isoformat()})
    assert response.status_code == 404


def test_purchase_order_list_filters_by_status(client_for, main, offer):
    sent = purchase_order(offer.supplier, main, [(offer.product, 5)])
    draft = purchase_order(offer.supplier, main, [(offer.product, 5)], send=False)
    page = client_for("Manager").get(reverse("fulfillment:purchase_orders"),
                                     {"status": "draft"}).content.decode()
    assert draft.number in page and sent.number not in page
