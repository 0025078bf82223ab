"""Saved order templates: saved from an order or the entry screen, renamed,
deleted, and placed again from the customer card at today's prices, once
per confirmation, never with an unsold or unpriced line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Product
from oms.models import FormSubmission
from orders.models import Order, OrderTemplate, PriceListEntry
from tests.billing.invoicing_support import terms_customer
from tests.factories.customers import AddressFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    """A customer on terms with a default address, and an order of two products."""
    customer = terms_customer(name="Hélène Marchal")
    AddressFactory(customer=customer, city="Lyon")
    bolts = stocked_product(sku="BOLT-1", name="Bolt", unit_price=Decimal("2.00"))
    nuts = stocked_product(sku="NUT-1", name="Nut", unit_price=Decimal("0.50"))
    order = make_order(customer=customer, lines=[(bolts, 10), (nuts, 20)])
    return {"customer": customer, "order": order, "bolts": bolts, "nuts": nuts}


def save(client, order, name="Weekly restock"):
    return client.post(reverse("orders:save_template", args=[order.pk]), {"name": name})


def place_url(template) -> str:
    return reverse("orders:template_place", args=[template.pk])


def confirm(client, template):
    """The confirmation page and the one-time key of its form."""
    response = client.get(place_url(template))
    assert response.status_code == 200
    return response, response.context["form"]["submission_key"].value()


def test_sales_saves_an_order_as_a_template_and_sees_it_on_the_card(client_for, setup):
    client = client_for("Sales")
    response = save(client, setup["order"])
    card = reverse("customers:detail", args=[setup["customer"].pk])
    assert response.status_code == 302 and response["Location"] == f"{card}#templates-title"
    template = OrderTemplate.objects.get()
    assert (template.customer, template.name, template.currency, template.channel,
            template.created_by) == (setup["customer"], "Weekly restock", "EUR", "phone",
                                     client.user)
    assert [(line.product.sku, line.quantity) for line in template.lines.all()] == [
        ("BOLT-1", 10), ("NUT-1", 20)]
    html = client.get(card).content.decode()
    assert "Weekly restock" in html and place_url(template) in html


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_template_needs_a_name_and_writes_nothing_without(client_for, setup, name):
    response = save(client_for("Sales"), setup["order"], name=name)
    assert response.status_code == 400
    assert response.context["error"]
    assert not OrderTemplate.objects.exists()


def test_a_second_template_of_the_same_name_is_refused(client_for, setup):
    client = client_for("Sales")
    save(client, setup["order"])
    response = save(client, setup["order"])
    assert response.status_code == 400
    assert "already has a template of that name" in response.context["error"]
    assert OrderTemplate.objects.count() == 1


def test_placing_a_template_takes_todays_prices(client_for, setup):
    client = client_for("Sales")
    save(client, setup["order"])
    template = OrderTemplate.objects.get()
    PriceListEntry.objects.filter(product=setup["bolts"], price_list__currency="EUR").update(
        unit_price=Decimal("2.40"))
    response, key = confirm(client, template)
    html = response.content.decode()
    assert "€2.40" in html and "€2.00" not in html
    assert response.context["preview"].can_place
    response = client.post(place_url(template), {"submission_key": key})
    order = Order.objects.exclude(pk=setup["order"].pk).get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "orders:detail", args=[order.pk])
    assert [(line.sku, line.quantity, line.unit_price)
            for line in order.lines.order_by("position")] == [
        ("BOLT-1", 10, Decimal("2.40")), ("NUT-1", 20, Decimal("0.50"))]
    assert (order.customer, order.channel, order.currency, order.created_by) == (
        setup["customer"], "phone", "EUR", client.user)
    assert order.shipping_address["city"] == "Lyon"
    assert order.status in {"placed", "reserved"}


def test_a_double_click_places_one_order(client_for, setup):
    client = client_for("Sales")
    save(client, setup["order"])
    template = OrderTemplate.objects.get()
    _response, key = confirm(client, template)
    first = client.post(place_url(template), {"submission_key": key})
    second = client.post(place_url(template), {"submission_key": key}, follow=True)
    assert Order.objects.count() == 2  # the original and one new order
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "no second order was made" in second.content.decode()


@pytest.mark.parametrize("spoil", ["inactive", "unpriced"])
def test_a_template_with_an_unsold_or_unpriced_line_is_refused_with_nothing_written(
        client_for, setup, spoil):
    client = client_for("Sales")
    save(client, setup["order"])
    template = OrderTemplate.objects.get()
    if spoil == "inactive":
        Product.objects.filter(pk=setup["nuts"].pk).update(is_active=False)
        expected = "no longer sold"
    else:
        PriceListEntry.objects.filter(product=setup["nuts"]).delete()
        expected = "No price"
    response, key = confirm(client, template)
    html = response.content.decode()
    assert expected.lower() in html.lower()
    assert not response.context["preview"].can_place
    assert 'data-action="place-order" disabled' in html
    # A forged POST past the disabled button is refused by placement itself.
    response = client.post(place_url(template), {"submission_key": key})
    assert response.status_code == 422
    assert expected.lower() in response.content.decode().lower()
    assert Order.objects.count() == 1
    assert not FormSubmission.objects.filter(key=key).exists()


def test_a_line_short_of_stock_is_refused_for_a_customer_without_backorders(client_for, setup):
    client = client_for("Sales")
    save(client, setup["order"])
    template = OrderTemplate.objects.get()
    template.lines.filter(product=setup["bolts"]).update(quantity=5000)
    response, key = confirm(client, template)
    assert "Short" in response.content.decode()
    response = client.post(place_url(template), {"submission_key": key})
    assert response.status_code == 409
    assert "Only" in response.content.decode()
    assert Order.objects.count() == 1


def test_a_customer_without_an_address_cannot_place(client_for, setup):
    client = client_for("Sales")
    save(client, setup["order"])
    template = OrderTemplate.objects.get()
    setup["customer"].addresses.all().delete()
    response, key = confirm(client, template)
    assert "has no address on file" in response.content.decode()
    assert client.post(place_url(template), {"submission_key": key}).status_code == 422
    assert Order.objects.count() == 1


def test_templates_are_renamed_and_deleted(client_for, setup):
    client = client_for("Sales")
    save(client, setup["order"])
    save(client, setup["order"], name="Monthly")
    template = OrderTemplate.objects.get(name="Weekly restock")
    rename = reverse("orders:template_rename", args=[template.pk])
    client.post(rename, {"name": "Monthly"})  # taken: refused
    template.refresh_from_db()
    assert template.name == "Weekly restock"
    assert client.post(rename, {"name": "Friday"}).status_code == 302
    template.refresh_from_db()
    assert template.name == "Friday"
    assert client.post(reverse("orders:template_delete", args=[template.pk])).status_code == 302
    assert list(OrderTemplate.objects.values_list("name", flat=True)) == ["Monthly"]
    assert Order.objects.count() == 1


def test_a_template_is_saved_from_the_entry_screen(client_for, setup):
    client = client_for("Sales")
    response = client.post(reverse("orders:template_save"), {
        "customer": setup["customer"].pk, "currency": "EUR", "channel": "email",
        "line_sku": ["NUT-1", "BOLT-1"], "line_qty": ["3", "4"], "template_name": "Small"},
        HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].endswith("#templates-title")
    template = OrderTemplate.objects.get()
    assert template.channel == "email"
    assert [(line.product.sku, line.quantity) for line in template.lines.all()] == [
        ("NUT-1", 3), ("BOLT-1", 4)]


def test_an_entry_template_with_an_unknown_sku_is_refused(client_for, setup):
    response = client_for("Sales").post(reverse("orders:template_save"), {
        "customer": setup["customer"].pk, "currency": "EUR", "line_sku": ["NOPE"],
        "line_qty": ["1"], "template_name": "Bad"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Unknown SKU NOPE" in response.content.decode()
    assert not OrderTemplate.objects.exists()


def test_the_warehouse_may_not_save_place_rename_or_delete(client_for, setup, make_user):
    sales = make_user("Sales")
    from orders.inputs import TemplateName
    from orders.services import save_template_from_order

    template = save_template_from_order(order_id=setup["order"].pk,
                                        data=TemplateName.parse({"name": "Weekly"}), actor=sales)
    client = client_for("Warehouse")
    assert save(client, setup["order"], name="Other").status_code == 403
    assert client.get(place_url(template)).status_code == 403
    assert client.post(place_url(template), {"submission_key": "a" * 32}).status_code == 403
    assert client.post(reverse("orders:template_rename", args=[template.pk]),
                       {"name": "X"}).status_code == 403
    assert client.post(reverse("orders:template_delete", args=[template.pk])).status_code == 403
    assert OrderTemplate.objects.get().name == "Weekly"
    assert Order.objects.count() == 1
    html = client.get(reverse("orders:detail", args=[setup["order"].pk])).content.decode()
    assert "Save as template" not in html


def test_managers_see_templates_but_may_not_place_them(client_for, setup, make_user):
    from orders.inputs import TemplateName
    from orders.services import save_template_from_order

    template = save_template_from_order(order_id=setup["order"].pk,
                                        data=TemplateName.parse({"name": "Weekly"}),
                                        actor=make_user("Sales"))
    client = client_for("Manager")
    html = client.get(reverse("customers:detail", args=[setup["customer"].pk])).content.decode()
    assert "Weekly" in html and place_url(template) not in html
    assert client.get(place_url(template)).status_code == 403
    # Customer service takes orders on the phone: it places them.
    service = client_for("Customer service")
    html = service.get(reverse("customers:detail", args=[setup["customer"].pk])).content.decode()
    assert place_url(template) in html
    assert service.get(place_url(template)).status_code == 200


def test_unknown_templates_are_404(client_for, setup):
    client = client_for("Sales")
    assert client.get(reverse("orders:template_place", args=[999999])).status_code == 404
    assert client.post(reverse("orders:template_delete", args=[999999])).status_code == 404


def test_the_admin_lists_templates_and_deletes_through_the_service(admin_client, setup):
    from orders.inputs import TemplateName
    from orders.services import save_template_from_order

    template = save_template_from_order(order_id=setup["order"].pk, actor=None,
                                        data=TemplateName.parse({"name": "Weekly"}))
    url = reverse("admin:orders_ordertemplate_changelist")
    response = admin_client.get(url, {"q": "Marchal"})
    assert response.status_code == 200 and "Weekly" in response.content.decode()
    assert admin_client.get(reverse("admin:orders_ordertemplate_change",
                                    args=[template.pk])).status_code == 200
    admin_client.post(url, {"action": "delete_selected_templates",
                            "_selected_action": [template.pk]})
    assert not OrderTemplate.objects.exists()
