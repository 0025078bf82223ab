"""Order list and detail views: search, filters, paging without COUNT(*),
constant query count, and one htmx POST per action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from orders.models import Order, OrderStatus
from orders.services import approve_order, hold_order
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "order-panel"}


@pytest.fixture
def product():
    return stocked_product(1000)


def _numbers(response) -> list[str]:
    return [o.number for o in response.context["orders"]]


def test_list_searches_number_customer_name_email_and_phone(client_for, product):
    client = client_for("Sales")
    ada = CustomerFactory(name="Ada Lovelace", email="ada@analytical.example",
                          phone="+44 20 7946 0001")
    bob = CustomerFactory(name="Bob Builder", email="bob@example.com", phone="+33 1 00 00 00")
    ada_order = make_order(customer=ada, lines=[(product, 1)])
    bob_order = make_order(customer=bob, lines=[(product, 1)])
    url = reverse("orders:list")
    for query, expected in [
        ("lovelace", [ada_order.number]),
        ("ANALYTICAL", [ada_order.number]),
        ("7946", [ada_order.number]),
        (bob_order.number, [bob_order.number]),
        (bob_order.number[:-1].lower(), None),
        (bob_order.number[-6:], [bob_order.number]),
    ]:
        numbers = _numbers(client.get(url, {"q": query}))
        if expected is None:
            assert bob_order.number in numbers
        else:
            assert numbers == expected, query


def test_list_filters_by_status_channel_customer_and_dates(client_for, product):
    client = client_for("Sales")
    web = make_order(lines=[(product, 1)], channel="web")
    phone = make_order(lines=[(product, 1)], channel="phone")
    approve_order(order_id=phone.pk, actor=None)
    old = make_order(lines=[(product, 1)], channel="web")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    url = reverse("orders:list")
    assert _numbers(client.get(url, {"status": "reserved"})) == [phone.number]
    assert _numbers(client.get(url, {"channel": "web"})) == [web.number, old.number]
    assert _numbers(client.get(url, {"customer": web.customer_id})) == [web.number]
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert old.number not in _numbers(client.get(url, {"from": since}))
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert _numbers(client.get(url, {"to": until})) == [old.number]
    # junk filters are ignored rather than failing
    assert client.get(url, {"status": "nope", "from": "yesterday", "per_page": "x",
                            "page": "-3", "sort": "drop table"}).status_code == 200


def test_list_sorts_by_total_and_number(client_for, product):
    client = client_for("Sales")
    small = make_order(lines=[(product, 1)])
    big = make_order(lines=[(product, 5)])
    url = reverse("orders:list")
    assert _numbers(client.get(url, {"sort": "-total"})) == [big.number, small.number]
    assert _numbers(client.get(url, {"sort": "total"})) == [small.number, big.number]
    assert _numbers(client.get(url, {"sort": "number"})) == sorted([small.number, big.number])


def test_list_pages_without_count_and_knows_a_next_page(client_for, product):
    client = client_for("Sales")
    orders = [make_order(lines=[(product, 1)]) for _ in range(12)]
    url = reverse("orders:list")
    with CaptureQueriesContext(connection) as ctx:
        first = client.get(url, {"per_page": 10})
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert first.context["page"].has_next
    second = client.get(url, {"per_page": 10, "page": 2})
    assert not second.context["page"].has_next
    assert len(_numbers(first)) + len(_numbers(second)) == 12
    assert set(_numbers(first) + _numbers(second)) == {o.number for o in orders}


def test_list_query_count_is_the_same_for_10_and_50_rows(client_for, product):
    client = client_for("Sales")
    for index in range(50):
        make_order(customer=CustomerFactory(), lines=[(product, 1 + index % 3)])
    url = reverse("orders:list")
    client.get(url, {"per_page": 10})  # warm the session and permission caches

    def count(per_page: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"per_page": per_page})
        assert len(response.context["orders"]) == per_page
        return len(ctx.captured_queries)

    assert count(10) == count(50)


def test_htmx_list_request_renders_only_the_results(client_for, product):
    client = client_for("Sales")
    make_order(lines=[(product, 1)])
    response = client.get(reverse("orders:list"), HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="order-results")
    body = response.content.decode()
    assert 'id="order-results"' in body and "<html" not in body


def test_detail_shows_lines_totals_addresses_and_timeline(client_for, product):
    client = client_for("Customer service")
    order = make_order(lines=[(product, 2)])
    response = client.get(reverse("orders:detail", args=[order.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert product.sku in body and order.shipping_address["city"] in body
    assert 'class="timeline"' in body and "Placed" in body


@pytest.mark.parametrize("role, state, expected", [
    ("Sales", "placed", ["approve", "hold", "cancel"]),
    ("Sales", "on_hold", ["approve", "reject", "cancel"]),
    ("Warehouse", "placed", []),
    ("Customer service", "placed", ["cancel"]),
    ("Accounting", "on_hold", ["approve", "reject"]),
    ("Manager", "reserved", ["cancel"]),
    ("Sales", "draft", ["place", "cancel"]),
    ("Sales", "cancelled", []),
])
def test_detail_offers_exactly_the_actions_the_user_may_perform(client_for, product, role,
                                                                 state, expected):
    client = client_for(role)
    order = make_order(lines=[(product, 1)], draft=state == "draft")
    if state == "on_hold":
        hold_order(order_id=order.pk, reason_code="manual", actor=None)
    elif state == "reserved":
        approve_order(order_id=order.pk, actor=None)
    elif state == "cancelled":
        from orders.services import cancel_order

        cancel_order(order_id=order.pk, actor=None, reason="x")
    response = client.get(reverse("orders:detail", args=[order.pk]))
    assert [name for name, _label, _style in response.context["actions"]] == expected
    body = response.content.decode()
    for name in ["place", "approve", "hold", "reject", "cancel", "allocate"]:
        assert (f'data-action="{name}"' in body) == (name in expected)


def test_htmx_approve_returns_the_re_rendered_panel(client_for, product):
    client = client_for("Manager")
    order = make_order(lines=[(product, 1)])
    response = client.post(reverse("orders:approve", args=[order.pk]), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="order-panel"' in body and "<html" not in body
    assert "Order approved." in body
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED


def test_illegal_action_is_409_with_a_message_and_changes_nothing(client_for, product):
    client = client_for("Manager")
    order = make_order(lines=[(product, 1)])
    approve_order(order_id=order.pk, actor=None)
    events = Order.objects.get(pk=order.pk).events.count()
    response = client.post(reverse("orders:approve", args=[order.pk]), **HTMX)
    assert response.status_code == 409
    assert "cannot be approved" in response.content.decode()
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.RESERVED and order.events.count() == events


def test_non_htmx_actions_redirect_or_render_the_page_with_the_status(client_for, product):
    client = client_for("Sales")
    order = make_order(lines=[(product, 1)])
    response = client.post(reverse("orders:cancel", args=[order.pk]), {"reason": ""})
    assert response.status_code == 400 and "<html" in response.content.decode()
    response = client.post(reverse("orders:cancel", args=[order.pk]), {"reason": "dup"})
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_hold_reject_and_note_through_their_urls(client_for, product):
    client = client_for("Sales")
    order = make_order(lines=[(product, 1)])
    response = client.post(reverse("orders:hold", args=[order.pk]),
                           {"reason_code": "credit_limit", "reason_text": "check"}, **HTMX)
    assert response.status_code == 200
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ON_HOLD
    response = client.post(reverse("orders:reject", args=[order.pk]), {"reason": "no"},
                           **HTMX)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    cs = client_for("Customer service")
    response = cs.post(reverse("orders:note", args=[order.pk]), {"text": "called back"},
                       **HTMX)
    assert response.status_code == 200 and "called back" in response.content.decode()


def test_actions_need_their_permission(client_for, product):
    client = client_for("Customer service")  # may cancel and note, not approve
    order = make_order(lines=[(product, 1)])
    assert client.post(reverse("orders:approve", args=[order.pk])).status_code == 403
    assert client.get(reverse("orders:approve", args=[order.pk])).status_code == 405
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED


def test_unknown_order_is_404(client_for):
    client = client_for("Manager")
    assert client.get(reverse("orders:detail", args=[999999])).status_code == 404
    assert client.post(reverse("orders:cancel", args=[999999]), {"reason": "x"}).status_code \
        == 404


def test_detail_panels_come_from_their_selectors_in_a_fixed_number_of_queries(
        client_for, django_assert_num_queries):
    from billing.services import issue_invoice
    from fulfillment.inputs import Handover
    from fulfillment.models import Shipment
    from fulfillment.services import ship
    from tests.factories.fulfillment import CarrierServiceFactory, packed_order
    from tests.factories.inventory import WarehouseFactory

    order, shipment = packed_order()
    ship(shipment_id=shipment.pk, data=Handover(carrier_service=CarrierServiceFactory(),
                                                tracking_number="TRACK-1"), actor=None)
    invoice = issue_invoice(order_id=order.pk, actor=None)
    client = client_for("Customer service")
    url = reverse("orders:detail", args=[order.pk])
    with CaptureQueriesContext(connection) as one_parcel:
        response = client.get(url)
    assert reverse("fulfillment:shipment", args=[shipment.pk]) in response.content.decode()
    assert reverse("billing:invoice_detail", args=[invoice.pk]) in response.content.decode()

    # More parcels, each from its own warehouse and carrier: the same queries.
    more = [Shipment.objects.create(order=order, warehouse=WarehouseFactory(),
                                    package_type="box", weight_kg=1,
                                    carrier_service=CarrierServiceFactory(),
                                    tracking_number=f"TRACK-{n}") for n in (2, 3)]
    with django_assert_num_queries(len(one_parcel)):
        response = client.get(url)
    page = response.content.decode()
    assert all(reverse("fulfillment:shipment", args=[s.pk]) in page and s.warehouse.code in page
               for s in more)
    assert "TRACK-3" in page


def test_detail_panels_are_left_out_for_roles_that_may_not_open_them(client_for):
    from billing.services import issue_invoice
    from fulfillment.inputs import Handover
    from fulfillment.services import ship
    from tests.factories.fulfillment import CarrierServiceFactory, packed_order

    order, shipment = packed_order()
    ship(shipment_id=shipment.pk, data=Handover(carrier_service=CarrierServiceFactory(),
                                                tracking_number="TRACK-1"), actor=None)
    invoice = issue_invoice(order_id=order.pk, actor=None)
    page = client_for("Sales").get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert 'id="shipments-title"' not in page
    assert reverse("fulfillment:shipment", args=[shipment.pk]) not in page
    assert 'id="invoices-title"' not in page
    assert reverse("billing:invoice_detail", args=[invoice.pk]) not in page


def test_approving_an_order_of_a_blocked_customer_is_refused_and_changes_nothing(client_for,
                                                                                 product):
    client = client_for("Manager")
    order = make_order(lines=[(product, 1)])
    Customer.objects.filter(pk=order.customer_id).update(standing="blocked")
    events = order.events.count()
    response = client.post(reverse("orders:approve", args=[order.pk]), **HTMX)
    assert response.status_code == 409
    assert "The customer is blocked; the order cannot be approved." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED
    assert order.events.count() == events
