"""Unit costs per product and currency: the service, the product page and the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.costs import set_product_cost
from inventory.models import ProductCost
from oms.lib.errors import ApplicationError
from tests.factories.inventory import ProductFactory

pytestmark = pytest.mark.django_db


def test_setting_a_cost_twice_keeps_one_row_per_currency_and_empty_removes_it():
    product = ProductFactory()
    set_product_cost(product_id=product.pk, data={"currency": "EUR", "cost": "4.00"}, actor=None)
    set_product_cost(product_id=product.pk, data={"currency": "EUR", "cost": "4.50"}, actor=None)
    set_product_cost(product_id=product.pk, data={"currency": "USD", "cost": "5.00"}, actor=None)
    assert dict(product.costs.values_list("currency", "cost")) == {
        "EUR": Decimal("4.50"), "USD": Decimal("5.00")}
    set_product_cost(product_id=product.pk, data={"currency": "USD", "cost": None}, actor=None)
    assert list(product.costs.values_list("currency", flat=True)) == ["EUR"]


@pytest.mark.parametrize("data, field", [
    ({"currency": "XYZ", "cost": "4.00"}, "currency"),
    ({"currency": "eur", "cost": "4.00"}, "currency"),
    ({"currency": "EUR", "cost": "-1"}, "cost"),
    ({"currency": "EUR", "cost": "1.001"}, "cost"),
])
def test_bad_input_is_a_field_error_and_writes_nothing(data, field):
    product = ProductFactory()
    with pytest.raises(ApplicationError) as caught:
        set_product_cost(product_id=product.pk, data=data, actor=None)
    assert field in caught.value.field_errors
    assert not ProductCost.objects.exists()


def test_a_manager_sets_a_cost_on_the_product_page(client_for):
    product = ProductFactory()
    client = client_for("Manager")
    page = client.get(reverse("inventory:product_detail", args=[product.pk])).content.decode()
    assert 'id="product-costs"' in page and "No cost known" in page
    response = client.post(reverse("inventory:product_cost", args=[product.pk]),
                           {"currency": "USD", "cost": "7.25"})
    assert response.status_code == 302
    assert ProductCost.objects.get(product=product).cost == Decimal("7.25")
    page = client.get(reverse("inventory:product_detail", args=[product.pk])).content.decode()
    assert "$7.25" in page


def test_an_unknown_currency_on_the_product_page_is_a_field_error(client_for):
    product = ProductFactory()
    client = client_for("Manager")
    response = client.post(reverse("inventory:product_cost", args=[product.pk]),
                           {"currency": "XYZ", "cost": "7.25"})
    assert response.status_code == 400
    assert "currency" in response.context["cost_form"].errors
    assert not ProductCost.objects.exists()


def test_sales_see_no_costs_and_may_not_set_them(client_for):
    product = ProductFactory()
    client = client_for("Sales")
    page = client.get(reverse("inventory:product_detail", args=[product.pk])).content.decode()
    assert 'id="product-costs"' not in page
    response = client.post(reverse("inventory:product_cost", args=[product.pk]),
                           {"currency": "EUR", "cost": "1.00"})
    assert response.status_code == 403
    assert not ProductCost.objects.exists()


def test_the_admin_edits_costs_on_the_product_and_lists_them(client_for):
    product = ProductFactory(sku="MUG-1")
    ProductCost.objects.create(product=product, currency="EUR", cost=Decimal("3.00"))
    client = client_for("Admin")
    change = client.get(reverse("admin:inventory_product_change", args=[product.pk]))
    assert change.status_code == 200 and "costs-TOTAL_FORMS" in change.content.decode()
    listing = client.get(reverse("admin:inventory_productcost_changelist"), {"q": "MUG"})
    assert listing.status_code == 200 and "MUG-1" in listing.content.decode()
    refused = client.post(reverse("admin:inventory_productcost_add"),
                          {"product": product.pk, "currency": "XYZ", "cost": "1.00"})
    assert refused.status_code == 200 and ProductCost.objects.count() == 1
