# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""Back-office order entry: search as you type, live lines and totals, save
as draft or place; bad input gives field errors and writes nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from customers.models import Address, Customer
from oms.lib.submissions import new_submission_key
from orders.models import Order
from tests.orders.capture_support import catalogue, written  # noqa: F401

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def lines_in(response) -> list[tuple[str, str]]:
    return re.findall(r'data-line-sku="([^"]*)" data-quantity="([^"]*)"',
                      response.content.decode())


def total_in(response, kind: str) -> str | None:
    match = re.search(rf'data-total="{kind}" data-amount="([^"]*)"', response.content.decode())
    return match.group(1) if match else None


def entry_data(**changes) -> dict:
    data = {
        "customer.name": "Ada Lovelace", "customer.email": "ada@example.com",
        "customer.phone": "", "customer.kind": "person", "channel": "phone", "currency": "EUR",
        "shipping_address.name": "Ada Lovelace", "shipping_address.line1": "1 Rue de Rivoli",
        "shipping_address.line2": "", "shipping_address.postal_code": "75001",
        "shipping_address.city": "Paris", "shipping_address.region": "",
        "shipping_address.country": "FR", "promised_delivery_date": "",
        "payment.method": "bank_transfer", "payment.card_number": "", "notes": "",
        "line_sku": ["MUG-1", "TEA-1"], "line_qty": ["2", "3"],
        "action": "place",
        "submission_key": new_submission_key(),  # a freshly rendered form
    }
    data.update(changes)
    return data


@pytest.fixture
def sales(client_for):
    return client_for("Sales")


def test_entry_page_renders_for_sales(sales):
    response = sales.get(reverse("orders:entry"))
    assert response.status_code == 200
    assert b'id="entry-form"' in response.content
    assert b"hx-get" in response.content


def test_entry_page_is_forbidden_without_the_permission(client_for):
    assert client_for("Warehouse").get(reverse("orders:entry")).status_code == 403


def test_customer_search_as_you_type_returns_the_partial(sales):
    Customer.objects.create(name="Ada Lovelace", email="ada@example.com")
    Customer.objects.create(name="Bob", email="bob@example.com")
    response = sales.get(reverse("orders:entry_customer_search"), {"customer_q": "lovel"},
                         **HTMX)
    assert response.status_code == 200
    assert b"Ada Lovelace" in response.content and b"bob@example.com" not in response.content
    assert b"<html" not in response.content


def test_picking_a_customer_prefills_its_shipping_address_and_payment(sales):
    ada = Customer.objects.create(name="Ada Lovelace", email="ada@example.com",
                                  payment_preference="net_terms")
    Address.objects.create(customer=ada, kind="shipping", name="Ada", line1="9 Quai",
                           postal_code="69001", city="Lyon", country="FR", is_default=True)
    response = sales.get(reverse("orders:entry_customer_pick"), {"customer": ada.pk}, **HTMX)
    assert response.status_code == 200
    assert b'value="9 Quai"' in response.content
    assert f'value="{ada.pk}"'.encode() in response.content
    assert b'hx-swap-oob' in response.content
    assert b'<option value="net_terms" selected>' in response.content


def test_product_search_shows_only_active_products_with_availability(sales, catalogue):
    response = sales.get(reverse("orders:entry_product_search"), {"product_q": "1"}, **HTMX)
    assert b"MUG-1" in response.content and b"TEA-1" in response.content
    assert b"OLD-1" not in response.content
    assert b"50 available" in response.content


def test_lines_partial_adds_a_product_and_computes_totals_on_the_server(sales, catalogue):
    response = sales.post(reverse("orders:entry_lines"),
                          {"line_sku": ["MUG-1"], "line_qty": ["2"], "add_sku": "TEA-1",
                           "currency": "EUR"}, **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert lines_in(response) == [("MUG-1", "2"), ("TEA-1", "1")]
    assert total_in(response, "net") == "24.53"  # 19.98 + 4.55
    assert total_in(response, "tax") == "4.25"  # 4.00 at 20 % + 0.25 at 5.5 %
    assert total_in(response, "gross") == "28.78"
    assert b"LYO: 50" in response.content  # availability per warehouse
    assert written() == (0, 0)


def test_lines_partial_removes_a_line_and_flags_bad_quantities(sales, catalogue):
    response = sales.post(reverse("orders:entry_lines"),
                          {"line_sku": ["MUG-1", "TEA-1"], "line_qty": ["0", "1"],
                           "remove": "1"}, **HTMX)
    assert lines_in(response) == [("MUG-1", "")]
    assert b"Enter a whole number above zero." in response.content
    assert total_in(response, "net") is None


def test_adding_the_same_product_again_raises_its_quantity(sales, catalogue):
    response = sales.post(reverse("orders:entry_lines"),
                          {"line_sku": ["MUG-1"], "line_qty": ["2"], "add_sku": "MUG-1"}, **HTMX)
    assert lines_in(response) == [("MUG-1", "3")]


def test_place_for_a_new_customer_creates_customer_and_order(sales, catalogue):
    response = sales.post(reverse("orders:entry_save"), entry_data())
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.status == "placed" and order.channel == "phone"
    assert order.created_by == sales.user
    assert str(order.total_gross) == "38.38"
    assert order.customer.email == "ada@example.com"
    assert order.customer.addresses.filter(kind="shipping").exists()


def test_place_for_an_existing_customer(sales, catalogue):
    ada = Customer.objects.create(name="Ada", email="ada@example.com")
    response = sales.post(reverse("orders:entry_save"),
                          entry_data(**{"customer": ada.pk, "customer.name": "",
                                        "customer.email": ""}))
    assert response.status_code == 302
    assert Order.objects.get().customer == ada
    assert Customer.objects.count() == 1


def test_save_as_draft_holds_no_stock(sales, catalogue):
    response = sales.post(reverse("orders:entry_save"), entry_data(action="draft"))
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.status == "draft"
    assert catalogue["MUG-1"].stock_levels.get().reserved == 0


@pytest.mark.parametrize(("changes", "field"), [
    ({"customer.email": "not-an-email"}, "customer.email"),
    ({"customer.name": "", "customer.email": ""}, "customer.name"),
    ({"shipping_address.city": ""}, "shipping_address.city"),
    ({"shipping_address.country": "France"}, "shipping_address.country"),
    ({"currency": "XYZ"}, "currency"),
    ({"payment.method": "cash"}, "payment.method"),
    ({"payment.method": "card", "payment.card_number": ""}, "payment.card_number"),
    ({"payment.method": "card", "payment.card_number": "12ab"}, "payment.card_number"),
    # Digits, but a typing error (Luhn): refused by placement, shown on the field.
    ({"payment.method": "card", "payment.card_number": "4242 4242 4242 4241"},
     "payment.card_number"),
    ({"promised_delivery_date": "tomorrow"}, "promised_delivery_date"),
    ({"ship_complete": "maybe"}, "ship_complete"),
])
def test_bad_header_fields_give_field_errors_and_write_nothing(sales, catalogue, changes,
                                                               field):
    response = sales.post(reverse("orders:entry_save"), entry_data(**changes))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert written() == (0, 0)


@pytest.mark.parametrize("lines", [
    {"line_sku": ["NOPE"], "line_qty": ["1"]},
    {"line_sku": ["OLD-1"], "line_qty": ["1"]},
    {"line_sku": ["MUG-1"], "line_qty": ["0"]},
    {"line_sku": ["MUG-1"], "line_qty": ["-1"]},
    {"line_sku": ["MUG-1"], "line_qty": ["1.5"]},
    {"line_sku": [], "line_qty": []},
])
def test_bad_lines_are_refused_and_write_nothing(sales, catalogue, lines):
    response = sales.post(reverse("orders:entry_save"), entry_data(**lines))
    assert response.status_code == 422
    assert response.context["error"]
    assert written() == (0, 0)


def test_blocked_customer_is_refused(sales, catalogue):
    mallory = Customer.objects.create(name="Mallory", email="m@example.com", standing="blocked")
    response = sales.post(reverse("orders:entry_save"),
                          entry_data(**{"customer": mallory.pk, "customer.name": "",
                                       "customer.email": ""}))
    assert response.status_code == 422
    assert "customer" in response.context["form"].errors
    assert Order.objects.count() == 0


def test_out_of_stock_is_refused_with_the_form_kept(sales, catalogue):
    response = sales.post(reverse("orders:entry_save"),
                          entry_data(line_sku=["MUG-1"], line_qty=["51"]))
    assert response.status_code == 409
    assert b"Only 50 of MUG-1 available" in response.content
    assert b'value="1 Rue de Rivoli"' in response.content
    assert written() == (0, 0)


def test_placing_needs_the_place_permission(client_for, catalogue):
    from django.contrib.auth.models import Permission

    client = client_for("Accounting")
    client.user.user_permissions.add(Permission.objects.get(codename="add_order"))
    response = client.post(reverse("orders:entry_save"), entry_data())
    assert response.status_code == 403
    assert written() == (0, 0)


@pytest.mark.parametrize("changes", [
    # The card is refused (a typing error) ...
    {"payment.method": "card", "payment.card_number": "4242 4242 4242 4241"},
    # ... or valid while another field is not.
    {"payment.method": "card", "payment.card_number": "4242424242424242",
     "shipping_address.city": ""},
])
def test_a_card_number_is_never_echoed_cached_or_reported(sales, catalogue, changes):
    response = sales.post(reverse("orders:entry_save"), entry_data(**changes))
    assert response.status_code == 422
    page = response.content.decode()
    assert changes["payment.card_number"] not in page
    assert changes["payment.card_number"].replace(" ", "") not in page
    assert 'name="payment.card_number"' in page  # the field is there, empty
    assert "no-store" in response["Cache-Control"]
    # Django's error reports leave the field out of the POST data they show.
    assert list(response.wsgi_request.sensitive_post_parameters) == ["payment.card_number"]
    assert written() == (0, 0)


def test_every_render_of_the_entry_page_carries_a_new_form_key(sales):
    keys = [re.findall(r'name="submission_key" value="([0-9a-f]{32})"',
                       sales.get(reverse("orders:entry")).content.decode()) for _ in range(2)]
    assert len(keys[0]) == len(keys[1]) == 1 and keys[0] != keys[1]


@pytest.mark.parametrize("customer", ["new", "existing"])
def test_a_replayed_entry_post_makes_one_order_and_shows_it(sales, catalogue, customer):
    from django.contrib.messages import get_messages

    changes = {}
    if customer == "existing":
        ada = Customer.objects.create(name="Ada", email="ada@example.com")
        changes = {"customer": ada.pk, "customer.name": "", "customer.email": ""}
    data = entry_data(**changes)

    first = sales.post(reverse("orders:entry_save"), data)
    replay = sales.post(reverse("orders:entry_save"), data)

    order = Order.objects.get()
    assert first.status_code == replay.status_code == 302
    assert replay["Location"] == reverse("orders:detail", args=[order.pk])
    assert [str(m) for m in get_messages(replay.wsgi_request)][-1] == (
        f"Order {order.number} was already saved from this form; no second order was made.")
    assert Customer.objects.count() == 1
    from inventory.models import Reservation

    assert Reservation.objects.count() == 2  # stock held once, for the order's two lines


def test_an_entry_post_without_its_form_key_writes_nothing(sales, catalogue):
    response = sales.post(reverse("orders:entry_save"), entry_data(submission_key=""))
    assert response.status_code == 422
    assert "This form is out of date" in response.content.decode()
    assert not Order.objects.exists() and not Customer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_three_simultaneous_entry_submits_make_one_order(catalogue, make_user):
    import threading

    from django.db import connection
    from django.test import Client

    user = make_user("Sales")
    clients = [Client() for _ in range(3)]
    for client in clients:
        client.force_login(user)
    data = entry_data()
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def send(client: Client) -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(client.post(reverse("orders:entry_save"), data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [302] * 3
    assert Order.objects.count() == 1 and Customer.objects.count() == 1


def test_the_clerk_chooses_how_the_order_ships(sales, catalogue):
    response = sales.post(reverse("orders:entry_save"), entry_data(ship_complete="false"))
    assert response.status_code == 302
    assert Order.objects.get().ship_complete is False
