"""The purchasing admin: suppliers edited, purchase orders read-only, and
their send and cancel actions going through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory.models import PurchaseOrder
from tests.factories.inventory import WarehouseFactory
from tests.factories.purchasing import SupplierProductFactory, purchase_order

pytestmark = pytest.mark.django_db


def test_admin_sends_and_cancels_through_the_services(client_for):
    offer = SupplierProductFactory()
    draft = purchase_order(offer.supplier, WarehouseFactory(), [(offer.product, 3)], send=False)
    client = client_for("Admin")
    url = reverse("admin:inventory_purchaseorder_changelist")
    assert client.get(url, {"q": offer.product.sku}).status_code == 200
    client.post(url, {"action": "send_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "sent"
    assert draft.events.filter(to_status="sent").count() == 1
    client.post(url, {"action": "cancel_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "cancelled"
    # A second cancel is refused by the state machine, with a message per row.
    response = client.post(url, {"action": "cancel_selected", "_selected_action": [draft.pk]},
                           follow=True)
    assert "cannot be cancelled" in response.content.decode()
    assert PurchaseOrder.objects.get(pk=draft.pk).events.filter(
        to_status="cancelled").count() == 1


def test_supplier_pages_list_and_search(client_for):
    offer = SupplierProductFactory(supplier__name="Acme Tools")
    client = client_for("Admin")
    page = client.get(reverse("admin:inventory_supplier_changelist"), {"q": "acme"})
    assert "Acme Tools" in page.content.decode()
    change = client.get(reverse("admin:inventory_supplier_change", args=[offer.supplier_id]))
    assert change.status_code == 200 and offer.supplier_sku in change.content.decode()
