"""The price list pages and the rules on a price list: a price above zero
with the currency's decimals, no overlapping validity for one scope, a
known currency; each a field error with nothing written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from customers.models import CustomerGroup
from oms.lib.errors import ApplicationError
from orders.admin import PriceListAdminForm, PriceListEntryForm
from orders.inputs import PriceInput, PriceListInput
from orders.models import PriceList, PriceListEntry
from orders.services import save_price_list
from tests.billing.test_browser import log_in
from tests.factories.orders import stocked_product

pytestmark = pytest.mark.django_db
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"


def _default(currency: str = "EUR") -> PriceList:
    return PriceList.objects.get(currency=currency, customer=None, customer_group=None)


def test_the_list_page_shows_every_list_with_its_scope(client_for):
    stocked_product(unit_price=Decimal("10.00"))
    response = client_for("Sales").get(reverse("orders:price_lists"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Catalogue USD" in content and "Everyone (catalogue default)" in content


def test_the_pages_need_the_view_permission(client_for):
    assert client_for("Warehouse").get(reverse("orders:price_lists")).status_code == 403


def test_a_manager_sets_a_price_on_the_default_list(client_for):
    mug = stocked_product(unit_price=Decimal("10.00"))
    response = client_for("Manager").post(
        reverse("orders:price_list_detail", args=[_default("GBP").pk]),
        {"sku": mug.sku, "min_quantity": "10", "unit_price": "7.95"})
    assert response.status_code == 302
    assert _default("GBP").entries.get(product=mug, min_quantity=10).unit_price == \
        Decimal("7.95")


def test_sales_may_look_but_not_change_prices(client_for):
    mug = stocked_product(unit_price=Decimal("10.00"))
    response = client_for("Sales").post(
        reverse("orders:price_list_detail", args=[_default().pk]),
        {"sku": mug.sku, "min_quantity": "1", "unit_price": "1.00"})
    assert response.status_code == 403
    assert _default().entries.get(product=mug).unit_price == Decimal("10.00")


@pytest.mark.parametrize(("unit_price", "message"), [
    ("0", "Enter a price above zero."), ("-3.00", "Enter a price above zero."),
    ("abc", "Enter an amount such as 12.50."), ("1.005", "Use at most 2 decimal places.")])
def test_a_bad_price_is_a_field_error_and_nothing_is_written(client_for, unit_price, message):
    mug = stocked_product(unit_price=Decimal("10.00"))
    response = client_for("Manager").post(
        reverse("orders:price_list_detail", args=[_default().pk]),
        {"sku": mug.sku, "min_quantity": "5", "unit_price": unit_price})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not PriceListEntry.objects.filter(product=mug, min_quantity=5).exists()


def test_a_zero_or_negative_price_is_refused_by_the_input_and_the_admin():
    with pytest.raises(ApplicationError) as refused:
        PriceInput.parse({"sku": "MUG-1", "unit_price": "-1"})
    assert refused.value.field_errors == {"unit_price": ["Enter a price above zero."]}
    product = stocked_product()
    form = PriceListEntryForm(data={"price_list": _default().pk, "product": product.pk,
                                    "min_quantity": "2", "unit_price": "0"})
    assert not form.is_valid() and form.errors["unit_price"] == ["Enter a price above zero."]


def _header(**changes) -> dict:
    return {"name": "Resellers 2027", "currency": "EUR", "customer_group": None,
            "valid_from": "2027-01-01", "valid_until": "2027-12-31", **changes}


def test_overlapping_validity_for_the_same_scope_is_a_field_error():
    group = CustomerGroup.objects.create(name="Resellers")
    save_price_list(PriceListInput.parse(_header(customer_group=group.pk)), actor=None)
    with pytest.raises(ApplicationError) as refused:
        save_price_list(PriceListInput.parse(_header(customer_group=group.pk, name="Spring",
                                                     valid_from="2027-03-01",
                                                     valid_until="")), actor=None)
    assert list(refused.value.field_errors) == ["valid_from"]
    assert "Overlaps the validity of price list Resellers 2027" in \
        refused.value.field_errors["valid_from"][0]
    # Another scope, or the next year, is fine.
    other = CustomerGroup.objects.create(name="Schools")
    save_price_list(PriceListInput.parse(_header(name="Schools 2027", customer_group=other.pk)),
                    actor=None)
    save_price_list(PriceListInput.parse(_header(customer_group=group.pk, name="2028",
                                                 valid_from="2028-01-01", valid_until="")),
                    actor=None)
    assert PriceList.objects.filter(customer_group=group).count() == 2


def test_the_admin_form_shows_the_overlap_and_an_unknown_currency_on_their_fields():
    form = PriceListAdminForm(data={"name": "Second default", "currency": "EUR"})
    assert not form.is_valid()
    assert "Overlaps the validity" in form.errors["valid_from"][0]
    form = PriceListAdminForm(data={"name": "Bad", "currency": "XYZ"})
    assert not form.is_valid()
    assert form.errors["currency"] == [
        "Unknown currency XYZ; use an ISO 4217 code such as EUR."]
    assert PriceList.objects.filter(name__in=["Second default", "Bad"]).count() == 0


def test_an_end_before_the_start_is_a_field_error():
    with pytest.raises(ApplicationError) as refused:
        save_price_list(PriceListInput.parse(_header(valid_from="2027-05-01",
                                                     valid_until="2027-04-01")), actor=None)
    assert refused.value.field_errors == {"valid_until": ["The end of validity is before "
                                                          "its start."]}
    assert not PriceList.objects.filter(valid_from=date(2027, 5, 1)).exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_price_list_pages_in_the_browser(page: Page, live_server, make_user):
    for sku, amount in [("MUG-1", "9.99"), ("TEA-1", "4.55")]:
        stocked_product(sku=sku, name=sku.title(), unit_price=Decimal(amount))
    group = CustomerGroup.objects.create(name="Resellers")
    save_price_list(PriceListInput.parse(_header(name="Resellers 2027",
                                                 customer_group=group.pk)), actor=None)
    log_in(page, live_server, make_user("Manager").username)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Price lists").click()
    expect(page.get_by_role("heading", name="Price lists")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "price-lists.png"), full_page=True)
    page.get_by_role("link", name="Catalogue USD").click()
    page.locator("#id_sku").fill("MUG-1")
    page.get_by_label("From quantity").fill("10")
    page.get_by_label("Unit price").fill("0")
    page.get_by_role("button", name="Save price").click()
    expect(page.get_by_text("Enter a price above zero.", exact=True)).to_be_visible()
    page.get_by_label("Unit price").fill("9.49")
    page.get_by_role("button", name="Save price").click()
    expect(page.get_by_text("Price of MUG-1 saved.")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "price-list-detail.png"), full_page=True)
