"""The customer card, whole: orders, invoices with the open and overdue
balance, customer credit, shipments with tracking, every e-mail as sent,
calls and notes, contacts, one timeline; re-order; constant queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import CustomerCredit, Invoice
from customers.models import Contact, Interaction
from fulfillment import services as fulfillment_services
from fulfillment.inputs import Handover
from orders.inputs import ReturnRequest, TemplateName
from orders.models import OrderTemplate, PriceListEntry
from orders.services import save_template_from_order
from orders.services.returns import request_return
from tests.billing.invoicing_support import reserved_order, ship, terms_customer
from tests.factories.fulfillment import CarrierServiceFactory, packed_order, shipped_order

pytestmark = pytest.mark.django_db


def card_url(customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


@pytest.fixture
def history(django_capture_on_commit_callbacks):
    """A customer with an overdue invoice, credit, a parcel in transit and e-mails."""
    customer = terms_customer(name="Hélène Marchal")
    order = reserved_order(customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    invoice = Invoice.objects.get(order=order)
    CustomerCredit.objects.create(customer=customer, amount=Decimal("5.00"), currency="EUR",
                                  reason="Overpaid")
    parcel_order, shipment = packed_order(customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        fulfillment_services.ship(
            shipment_id=shipment.pk, actor=None,
            data=Handover(carrier_service=CarrierServiceFactory(), tracking_number="1Z999AA1"))
    return {"customer": customer, "order": order, "invoice": invoice,
            "parcel_order": parcel_order}


def test_the_card_shows_the_whole_history(client_for, history):
    customer, invoice = history["customer"], history["invoice"]
    # Thirty-day terms: read the card once the invoice is past its due date.
    with time_machine.travel(timezone.now() + timedelta(days=33)):
        html = client_for("Customer service").get(card_url(customer)).content.decode()
    # Money: what is open, what is overdue, the credit, the invoice itself.
    assert invoice.number in html
    assert "€24.00" in html and "overdue" in html
    assert "Customer credit: €5.00" in html
    # The parcel with its tracking link.
    assert "https://track.example/?n=1Z999AA1" in html
    # Every e-mail as sent: its subject and its text body.
    shipped_mail = next(m for m in mail.outbox if history["parcel_order"].number in m.subject
                        and "on its way" in m.subject)
    assert shipped_mail.subject in html
    assert shipped_mail.body.splitlines()[0] in html
    # One timeline across the orders.
    assert history["order"].number in html and history["parcel_order"].number in html
    assert 'aria-labelledby="timeline-title"' in html


def _template(customer, name: str, order) -> OrderTemplate:
    return save_template_from_order(order_id=order.pk, data=TemplateName.parse({"name": name}),
                                    actor=None)


def _return_one_unit(order) -> None:
    line = order.lines.order_by("position").first()
    request_return(data=ReturnRequest.parse({"order_id": order.pk, "channel": "phone", "lines": [
        {"order_line_id": line.pk, "quantity": 1, "reason": "damaged"}]}), actor=None)


# Managers read, customer service also starts returns, sales also places templates.
@pytest.mark.parametrize("role", ["Manager", "Customer service", "Sales"])
def test_the_card_costs_the_same_queries_with_a_longer_history(client_for, history, role,
                                                               django_capture_on_commit_callbacks):
    client = client_for(role)
    url = card_url(history["customer"])
    _template(history["customer"], "Weekly", history["order"])
    _return_one_unit(history["parcel_order"])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    for _ in range(2):
        order = reserved_order(customer=history["customer"])
        with django_capture_on_commit_callbacks(execute=True):
            ship(order)
        _template(history["customer"], f"Template {order.number}", order)
        with django_capture_on_commit_callbacks(execute=True):
            parcel, _shipment = shipped_order(customer=history["customer"],
                                              tracking_number=f"1Z{order.pk:08d}")
        _return_one_unit(parcel)
    Interaction.objects.create(customer=history["customer"], kind="note", text="x")
    Contact.objects.create(customer=history["customer"], name="Paul")
    assert count() == before


def test_the_card_lists_returns_templates_and_where_to_start_a_return(client_for, history):
    order, parcel_order = history["order"], history["parcel_order"]
    template = _template(history["customer"], "Weekly restock", order)
    _return_one_unit(parcel_order)
    client = client_for("Customer service")
    html = client.get(card_url(history["customer"])).content.decode()
    ret = parcel_order.returns.get()
    assert ret.number in html
    assert 'href="#customer-returns-title"' in html
    # The picker: the parcel's order still has a unit to return.
    assert reverse("orders:start_return", args=[parcel_order.pk]) in html
    assert "Weekly restock" in html
    assert reverse("orders:template_place", args=[template.pk]) in html
    manager_html = client_for("Manager").get(card_url(history["customer"])).content.decode()
    assert "Weekly restock" in manager_html
    assert reverse("orders:template_place", args=[template.pk]) not in manager_html
    sales_html = client_for("Sales").get(card_url(history["customer"])).content.decode()
    assert reverse("orders:template_place", args=[template.pk]) in sales_html
    assert reverse("orders:start_return", args=[parcel_order.pk]) not in sales_html
    warehouse = client_for("Warehouse").get(card_url(history["customer"]))
    assert warehouse.status_code == 403


def test_a_fully_returned_order_leaves_the_picker(client_for, history,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        second, _shipment = shipped_order(customer=history["customer"], tracking_number="1Z2")
    order = history["parcel_order"]
    line = order.lines.get()
    request_return(data=ReturnRequest.parse({"order_id": order.pk, "channel": "phone", "lines": [
        {"order_line_id": line.pk, "quantity": line.quantity, "reason": "damaged"}]}), actor=None)
    html = client_for("Customer service").get(card_url(history["customer"])).content.decode()
    assert reverse("orders:start_return", args=[order.pk]) not in html
    assert reverse("orders:start_return", args=[second.pk]) in html


def test_customer_service_logs_a_call_and_it_joins_the_timeline(client_for, history):
    client = client_for("Customer service")
    customer = history["customer"]
    response = client.post(reverse("customers:log_interaction", args=[customer.pk]), {
        "kind": "call_in", "text": "Asked where the parcel is.\nTold: in transit.",
        "order_number": history["parcel_order"].number})
    assert response.status_code == 302
    logged = Interaction.objects.get(customer=customer)
    assert (logged.kind, logged.actor, logged.order_number) == (
        "call_in", client.user, history["parcel_order"].number)
    html = client.get(card_url(customer)).content.decode()
    assert "Asked where the parcel is.<br>Told: in transit." in html
    assert "Call from the customer" in html


@pytest.mark.parametrize("data, field", [
    ({"kind": "call_in", "text": "   "}, "text"),
    ({"kind": "telepathy", "text": "Hello"}, "kind"),
    ({"kind": "note", "text": "x" * 5001}, "text"),
])
def test_a_bad_log_entry_gets_a_field_error_and_writes_nothing(client_for, history, data, field):
    response = client_for("Customer service").post(
        reverse("customers:log_interaction", args=[history["customer"].pk]), data)
    assert response.status_code == 400
    assert response.context["interaction_form"].errors[field]
    assert not Interaction.objects.exists()


def test_the_warehouse_may_not_log_calls(client_for, history):
    response = client_for("Warehouse").post(
        reverse("customers:log_interaction", args=[history["customer"].pk]),
        {"kind": "note", "text": "x"})
    assert response.status_code == 403
    assert not Interaction.objects.exists()


def test_contacts_are_added_checked_and_removed(client_for, history):
    client = client_for("Sales")
    customer = history["customer"]
    url = reverse("customers:contact_add", args=[customer.pk])
    response = client.post(url, {"name": "Paul Durand", "email": "not-an-address"})
    assert response.status_code == 400
    assert response.context["contact_form"].errors["email"]
    assert not Contact.objects.exists()
    assert client.post(url, {"name": "Paul Durand", "role": "Buyer",
                             "email": "Paul@Example.com", "phone": "+33 1 23"}).status_code == 302
    contact = Contact.objects.get()
    assert contact.email == "paul@example.com"
    assert "Paul Durand" in client.get(card_url(customer)).content.decode()
    client.post(reverse("customers:contact_remove", args=[customer.pk, contact.pk]))
    assert not Contact.objects.exists()


def test_re_order_takes_the_lines_at_todays_prices(client_for, history):
    order = history["order"]
    line = order.lines.get()
    PriceListEntry.objects.filter(product_id=line.product_id, price_list__currency="EUR",
                                  price_list__customer__isnull=True).update(
        unit_price=Decimal("12.34"))
    client = client_for("Sales")
    html = client.get(card_url(history["customer"])).content.decode()
    reorder_url = f"{reverse('orders:entry')}?reorder={order.pk}"
    assert reorder_url.replace("&", "&amp;") in html
    response = client.get(reorder_url)
    assert response.status_code == 200
    entry = response.context["entry"]
    assert [(entry_line.sku, entry_line.quantity_raw) for entry_line in entry.lines] == [
        (line.sku, str(line.quantity))]
    assert entry.lines[0].unit_price == Decimal("12.34")
    assert response.context["customer"] == history["customer"]
    for bad in ("999999", "abc"):
        assert client.get(f"{reverse('orders:entry')}?reorder={bad}").status_code == 404
