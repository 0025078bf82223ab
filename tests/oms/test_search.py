"""The search box: every kind of record from one place, an exact number
straight to its page, what each role may see, bad input, constant queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import services as billing_services
from billing.models import Invoice
from fulfillment import services as fulfillment_services
from fulfillment.inputs import Handover
from tests.billing.invoicing_support import reserved_order, ship, terms_customer
from tests.factories.fulfillment import CarrierServiceFactory, packed_order

pytestmark = pytest.mark.django_db

SEARCH = reverse("search")


@pytest.fixture
def records(django_capture_on_commit_callbacks):
    """An invoiced order with a credit note, and a shipped parcel of another order."""
    customer = terms_customer(name="Hélène Marchal", email="helene@example.com",
                              phone="+33 6 12 34 56 78")
    order = reserved_order(customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    invoice = Invoice.objects.get(order=order)
    note = billing_services.issue_credit_note(
        invoice_id=invoice.pk, actor=None, data=billing_services.CreditNoteInput(
            reason="Damaged", lines=(billing_services.CreditLineInput(
                description="Refund", net=Decimal("1.00"), tax_rate=Decimal("20.00")),)))
    parcel_order, shipment = packed_order()
    with django_capture_on_commit_callbacks(execute=True):
        shipment = fulfillment_services.ship(
            shipment_id=shipment.pk, actor=None,
            data=Handover(carrier_service=CarrierServiceFactory(), tracking_number="1Z999AA10123"))
    return {"customer": customer, "order": order, "invoice": invoice, "note": note,
            "shipment": shipment, "parcel_order": parcel_order}


def test_a_whole_number_opens_its_record(client_for, records):
    client = client_for("Customer service")
    expected = {
        records["order"].number: reverse("orders:detail", args=[records["order"].pk]),
        records["order"].number.lower(): reverse("orders:detail", args=[records["order"].pk]),
        records["invoice"].number: reverse("billing:invoice_detail",
                                           args=[records["invoice"].pk]),
        records["note"].number: reverse("billing:invoice_detail", args=[records["invoice"].pk]),
        "1z999aa10123": reverse("fulfillment:shipment", args=[records["shipment"].pk]),
    }
    for query, url in expected.items():
        response = client.get(SEARCH, {"q": f"  {query} "})
        assert response.status_code == 302, query
        assert response["Location"] == url, query


def test_results_are_grouped_by_kind(client_for, records):
    client = client_for("Customer service")
    html = client.get(SEARCH, {"q": "Marchal"}).content.decode()
    assert "Customers" in html and "Hélène Marchal" in html
    assert reverse("customers:detail", args=[records["customer"].pk]) in html
    # The beginning of a number lists every match instead of opening one.
    year_prefix = records["order"].number[:8]
    response = client.get(SEARCH, {"q": year_prefix})
    assert response.status_code == 200
    html = response.content.decode()
    assert records["order"].number in html and records["parcel_order"].number in html
    sku = records["order"].lines.get().sku
    assert sku in client.get(SEARCH, {"q": sku[:-1]}).content.decode()


def test_while_typing_htmx_gets_only_the_results(client_for, records):
    client = client_for("Customer service")
    response = client.get(SEARCH, {"q": records["order"].number}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # no redirect inside the drop-down
    html = response.content.decode()
    assert "<html" not in html and 'id="search-results"' in html
    assert records["order"].number in html


def test_each_role_sees_only_the_kinds_it_may_open(client_for, records):
    warehouse = client_for("Warehouse")
    html = warehouse.get(SEARCH, {"q": "Marchal"}).content.decode()
    assert "Hélène Marchal" not in html  # the warehouse has no customer records
    # Nor may it be sent to an invoice by its number.
    response = warehouse.get(SEARCH, {"q": records["invoice"].number})
    assert response.status_code == 200
    assert reverse("billing:invoice_detail", args=[records["invoice"].pk]) not in (
        response.content.decode())
    assert client_for("Customer service").get(SEARCH, {"q": "Marchal"}).status_code == 200


@pytest.mark.parametrize("query", ["x" * 101, "SO\x00-1"])
def test_text_that_cannot_be_searched_gets_a_clear_error(client_for, records, query):
    response = client_for("Customer service").get(SEARCH, {"q": query})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_one_character_finds_nothing_and_says_why(client_for, records):
    response = client_for("Customer service").get(SEARCH, {"q": "a"})
    assert response.status_code == 200
    assert "at least two characters" in response.content.decode()


def test_the_search_box_is_on_every_page_and_anonymous_users_log_in(client, client_for):
    assert client.get(SEARCH, {"q": "x"}).status_code == 302
    html = client_for("Sales").get(reverse("dashboard")).content.decode()
    assert 'id="topbar-search-q"' in html and f'action="{SEARCH}"' in html


def test_the_number_of_queries_does_not_depend_on_the_data(client_for, records):
    client = client_for("Manager")
    client.get(SEARCH, {"q": "ma"})  # warm: session, user, permissions

    def count(query: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(SEARCH, {"q": query}).status_code == 200
        return len(queries)

    few = count("zz-nothing")
    for _ in range(3):
        reserved_order(customer=terms_customer(name="Marchal Bis"))
    assert count("Marchal") == few


def test_a_return_is_found_by_its_number_and_a_fragment_of_it(client_for, records):
    from orders.inputs import ReturnRequest
    from orders.services import returns as return_services

    order = records["parcel_order"]
    ret = return_services.request_return(data=ReturnRequest.parse({
        "order_id": order.pk, "channel": "phone", "lines": [
            {"order_line_id": order.lines.get().pk, "quantity": 1, "reason": "damaged"}]}),
        actor=None)
    detail = reverse("orders:return_detail", args=[ret.pk])
    client = client_for("Customer service")
    response = client.get(SEARCH, {"q": ret.number.lower()})
    assert response.status_code == 302 and response["Location"] == detail
    html = client.get(SEARCH, {"q": ret.number[-4:]}).content.decode()
    assert "Returns" in html and ret.number in html and detail in html
    assert ret.number not in client.get(SEARCH, {"q": "R-1999"}).content.decode()
