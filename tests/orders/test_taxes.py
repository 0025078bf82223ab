# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""The VAT decision (`orders.taxes`), the rate the shipping charge takes, and
bad VAT ids and countries refused as field errors by every channel (form,
API, CSV import) with nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Address, Customer
from inventory.models import VatRate
from oms.lib.errors import ApplicationError
from oms.lib.vat import EU_MEMBER_STATES, VAT_ID_FORMATS, is_well_formed_vat_id
from orders import imports
from orders.models import Order
from orders.taxes import Seller, VatReason, determine_vat, rate_for, shipping_rate
from tests.factories.customers import CustomerFactory
from tests.orders.capture_support import api, api_token, catalogue, order_body, written  # noqa: F401

pytestmark = pytest.mark.django_db

FR_PAST = Seller(country="FR", distance_threshold_passed=True)
FR_BELOW = Seller(country="FR", distance_threshold_passed=False)


@pytest.fixture(autouse=True)
def rates():
    for country, category, rate in [("DE", "standard", "19"), ("DE", "reduced", "7"),
                                    ("FR", "standard", "20"), ("FR", "reduced", "5.5")]:
        VatRate.objects.update_or_create(country=country, category=category,
                                         defaults={"rate": Decimal(rate)})


@pytest.mark.parametrize(("seller", "country", "vat_id", "business", "reason", "rates"), [
    (FR_PAST, "FR", "", False, VatReason.DOMESTIC, {"standard": "20.00", "reduced": "5.50"}),
    # A French VAT id is no reverse charge for a French seller.
    (FR_PAST, "FR", "FR40303265045", True, VatReason.DOMESTIC,
     {"standard": "20.00", "reduced": "5.50"}),
    (FR_BELOW, "DE", "", False, VatReason.DISTANCE_SALE_ORIGIN,
     {"standard": "20.00", "reduced": "5.50"}),
    (FR_PAST, "DE", "", False, VatReason.DISTANCE_SALE_DESTINATION,
     {"standard": "19.00", "reduced": "7.00"}),
    (FR_PAST, "DE", "DE123456789", True, VatReason.REVERSE_CHARGE,
     {"standard": "0.00", "reduced": "0.00"}),
    # A consumer's VAT id, or a company's malformed one, changes nothing.
    (FR_PAST, "DE", "DE123456789", False, VatReason.DISTANCE_SALE_DESTINATION,
     {"standard": "19.00", "reduced": "7.00"}),
    (FR_PAST, "DE", "DE12345", True, VatReason.DISTANCE_SALE_DESTINATION,
     {"standard": "19.00", "reduced": "7.00"}),
    # A business buyer with another state's VAT id still receives abroad.
    (FR_PAST, "DE", "BE0123456749", True, VatReason.REVERSE_CHARGE,
     {"standard": "0.00", "reduced": "0.00"}),
    (FR_PAST, "CH", "", False, VatReason.EXPORT, {"standard": "0.00", "reduced": "0.00"}),
    (FR_PAST, "US", "DE123456789", True, VatReason.EXPORT,
     {"standard": "0.00", "reduced": "0.00"}),
])
def test_determine_vat(seller, country, vat_id, business, reason, rates):
    decision = determine_vat(seller=seller, ship_to_country=country, buyer_vat_id=vat_id,
                             is_business=business, categories=["standard", "reduced"])
    assert decision.reason == reason
    assert {c: str(rate_for(decision, c)) for c in ["standard", "reduced"]} == rates
    assert (decision.seller_country, decision.destination_country) == ("FR", country)
    assert bool(decision.mention) == (reason in (VatReason.REVERSE_CHARGE, VatReason.EXPORT))
    if reason == VatReason.REVERSE_CHARGE:
        assert "Art. 196" in decision.mention and decision.buyer_vat_id == vat_id
    if reason == VatReason.EXPORT:
        assert "Art. 146" in decision.mention


def test_the_seller_rate_is_the_catalogue_rate_of_the_product():
    decision = determine_vat(seller=FR_BELOW, ship_to_country="DE", categories=["standard"])
    assert rate_for(decision, "standard", seller_rate=Decimal("10.00")) == Decimal("10.00")
    past = determine_vat(seller=FR_PAST, ship_to_country="DE", categories=["standard"])
    assert rate_for(past, "standard", seller_rate=Decimal("10.00")) == Decimal("19")


def test_unknown_country_and_missing_destination_rate_are_field_errors():
    with pytest.raises(ApplicationError) as unknown:
        determine_vat(seller=FR_PAST, ship_to_country="XY", categories=["standard"])
    assert "shipping_address.country" in unknown.value.field_errors
    VatRate.objects.filter(country="DE", category="super_reduced").delete()
    with pytest.raises(ApplicationError) as missing:
        determine_vat(seller=FR_PAST, ship_to_country="DE", categories=["super_reduced"])
    assert "super_reduced" in missing.value.field_errors["shipping_address.country"][0]


@pytest.mark.parametrize(("lines", "rate"), [
    ([], "0.00"),
    ([("20.00", "10.00"), ("5.50", "30.00")], "5.50"),  # the largest share
    ([("20.00", "10.00"), ("5.50", "6.00"), ("20.00", "5.00")], "20.00"),  # summed per rate
    ([("20.00", "10.00"), ("5.50", "10.00")], "20.00"),  # a tie takes the higher rate
    ([("0.00", "64.90")], "0.00"),  # reverse charge, export
])
def test_shipping_takes_the_rate_of_the_largest_goods_share(lines, rate):
    assert shipping_rate([(Decimal(r), Decimal(n)) for r, n in lines]) == Decimal(rate)


def test_every_member_state_has_a_vat_id_format():
    assert set(VAT_ID_FORMATS) == EU_MEMBER_STATES
    for good in ["FR40303265045", "fr 40 303 265 045", "DE123456789", "ATU12345678",
                 "BE0123456749", "EL123456789", "NL123456789B01", "IE1234567T", "ESX1234567X"]:
        assert is_well_formed_vat_id(good), good
    for bad in ["FR123", "DE12345678", "GR123456789", "ATX12345678", "US123456789",
                "BE2123456789", "NL123456789", "", "FRAB1234"]:
        assert not is_well_formed_vat_id(bad), bad


# --- bad input through every channel -----------------------------------------

@pytest.mark.parametrize(("field", "value"), [("vat_id", "FR123"), ("vat_id", "XX123456789")])
def test_customer_form_refuses_a_malformed_vat_id(client_for, field, value):
    response = client_for("Sales").post(reverse("customers:create"), {
        "kind": "company", "name": "Acme SARL", "email": "buyer@acme.example",
        "vat_id": value, "preferred_language": "fr", "payment_preference": "card"})
    assert response.status_code == 400
    assert "VAT id" in str(response.context["form"].errors[field])
    assert Customer.objects.count() == 0


def test_address_form_refuses_an_unknown_country(client_for):
    customer = CustomerFactory()
    response = client_for("Sales").post(
        reverse("customers:address_add", args=[customer.pk]),
        {"name": "Ada", "line1": "1 Rue", "postal_code": "75001", "city": "Paris",
         "country": "XY", "kind": "shipping"})
    assert response.status_code == 400
    assert "Unknown country" in str(response.context["form"].errors["country"])
    assert Address.objects.count() == 0


@pytest.mark.parametrize(("field", "change"), [
    ("customer.vat_id", lambda body: body["customer"].update(vat_id="DE12", kind="company")),
    ("shipping_address.country",
     lambda body: body["shipping_address"].update(country="XY")),
])
def test_api_refuses_a_malformed_vat_id_or_unknown_country(api, catalogue, field, change):
    body = order_body()
    change(body)
    response = api.post("/orders", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert written() == (0, 0)


HEADER = ("order_ref,customer_email,customer_name,customer_kind,customer_vat_id,sku,quantity,"
          "currency,ship_name,ship_line1,ship_postal_code,ship_city,ship_country")


@pytest.mark.parametrize(("row", "column"), [
    ("A-1,acme@example.com,Acme,company,BE99,MUG-1,1,EUR,Acme,1 Rue,1000,Brussels,BE",
     "customer_vat_id"),
    ("A-1,acme@example.com,Acme,company,,MUG-1,1,EUR,Acme,1 Rue,1000,Nowhere,XY",
     "ship_country"),
])
def test_import_refuses_a_malformed_vat_id_or_unknown_country(catalogue, row, column):
    preview = imports.check(f"{HEADER}\n{row}\n".encode())
    assert not preview.is_clean
    assert column in preview.rows[0].errors, preview.rows[0].errors
    assert written() == (0, 0)


def test_api_order_of_a_belgian_company_is_reverse_charged(api, catalogue):
    body = order_body()
    body["customer"].update(kind="company", vat_id="be 0123.456.749")
    body["shipping_address"].update(country="BE", city="Brussels", postal_code="1000")
    response = api.post("/orders", body)
    assert response.status_code == 201, response.content
    assert response.json()["total_tax"] == "0.00"
    customer = Customer.objects.get()
    assert customer.vat_id == "BE0123456749"
    order = customer.orders.get()
    assert (order.vat_reason, order.vat_buyer_id) == ("reverse_charge", "BE0123456749")
    assert set(order.lines.values_list("tax_rate", flat=True)) == {Decimal("0.00")}


def test_import_preview_totals_are_the_vat_the_order_will_pay(
        client_for, catalogue, django_capture_on_commit_callbacks):
    from tests.orders.test_import import confirm, upload

    text = "\n".join([
        HEADER,
        "A-1,acme@example.com,Acme,company,BE0123456749,MUG-1,2,EUR,Acme,1 Rue,1000,Brussels,BE",
        "B-1,ada@example.com,Ada,person,,MUG-1,2,EUR,Ada,1 Rue,75001,Paris,FR",
    ]) + "\n"
    client = client_for("Sales")
    preview = upload(client, text).context["preview"]
    assert [(o.total_net, o.total_tax) for o in preview.orders] == [
        (Decimal("19.98"), Decimal("0.00")), (Decimal("19.98"), Decimal("4.00"))]
    ticket = upload(client, text).context["ticket"]
    confirm(client, ticket, django_capture_on_commit_callbacks)
    placed = {o.customer.email: (o.total_net, o.total_tax, o.vat_reason)
              for o in Order.objects.select_related("customer")}
    assert placed == {"acme@example.com": (Decimal("19.98"), Decimal("0.00"), "reverse_charge"),
                      "ada@example.com": (Decimal("19.98"), Decimal("4.00"), "domestic")}


@pytest.mark.parametrize(("changes", "tax"), [
    ({}, "4.25"),  # domestic: 4.00 at 20 % + 0.25 at 5.5 %
    ({"shipping_address.country": "CH"}, "0.00"),  # export
    ({"shipping_address.country": "BE", "customer.kind": "company",
      "customer.vat_id": "BE0123456749"}, "0.00"),  # reverse charge
    ({"shipping_address.country": "BE", "customer.kind": "person",
      "customer.vat_id": "BE0123456749"}, "4.25"),  # a consumer: the seller's rates
])
def test_entry_live_totals_show_the_vat_placement_will_apply(client_for, catalogue, changes,
                                                             tax):
    from tests.orders.test_entry import HTMX, entry_data, total_in

    data = entry_data(line_sku=["MUG-1", "TEA-1"], line_qty=["2", "1"], **changes)
    response = client_for("Sales").post(reverse("orders:entry_lines"), data, **HTMX)
    assert total_in(response, "net") == "24.53"
    assert total_in(response, "tax") == tax


def test_entry_places_a_new_belgian_company_reverse_charged(client_for, catalogue):
    from tests.orders.test_entry import entry_data

    response = client_for("Sales").post(reverse("orders:entry_save"), entry_data(**{
        "shipping_address.country": "BE", "customer.kind": "company",
        "customer.vat_id": "BE0123456749"}))
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.vat_reason, order.total_tax) == ("reverse_charge", Decimal("0.00"))
    assert order.customer.vat_id == "BE0123456749"


def test_entry_refuses_a_malformed_vat_id_and_writes_nothing(client_for, catalogue):
    from tests.orders.test_entry import entry_data

    response = client_for("Sales").post(reverse("orders:entry_save"), entry_data(**{
        "customer.kind": "company", "customer.vat_id": "BE12"}))
    assert response.status_code in (400, 422)
    assert "VAT id" in response.content.decode()
    assert written() == (0, 0)
