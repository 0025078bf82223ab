"""/queue/: customer service and sales see what needs a person, oldest first,
filter it by kind (an htmx partial), mark rows handled; the top bar counts
them; the warehouse may not open it. The page's queries do not grow with
its rows."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oms.lib import workqueue
from oms.models import QueueItemHandled
from orders import services as order_services
from orders.inputs import ReturnRequest
from orders.models import HoldReason
from orders.services import returns as return_services
from tests.factories.fulfillment import shipped_order
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db

QUEUE = reverse("work_queue")


@pytest.fixture(autouse=True)
def _every_hold_counts(settings):
    settings.WORK_QUEUE_HOLD_HOURS = 0


@pytest.fixture(autouse=True)
def _fresh_badge_cache(fresh_shared_cache):
    """Each test starts with no badge count cached."""


def held_order():
    order = make_order()
    return order_services.hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL,
                                     actor=None)


def returned_order(tracking: str):
    order, _shipment = shipped_order(tracking_number=tracking)
    return_services.request_return(data=ReturnRequest.parse({
        "order_id": order.pk, "channel": "phone", "lines": [
            {"order_line_id": order.lines.get().pk, "quantity": 1, "reason": "damaged"}]}),
        actor=None)
    return order


@pytest.mark.parametrize("role", ["Customer service", "Sales"])
def test_customer_service_and_sales_see_the_queue_with_its_nav_entry_and_count(client_for,
                                                                                role):
    order = held_order()
    client = client_for(role)
    page = client.get(QUEUE).content.decode()
    assert order.number in page and "Held by hand" in page
    assert f'href="{reverse("orders:detail", args=[order.pk])}"' in page
    assert 'data-nav="work_queue"' in page
    # The selected rows' orders can be exported from the queue's bulk bar.
    assert f'formaction="{reverse("reporting:order_export")}"' in page
    # Every page fetches the count after it loads; the page itself never counts.
    assert f'hx-get="{reverse("queue_count")}" hx-trigger="load"' in page
    badge = client.get(reverse("queue_count")).content.decode()
    assert '<span class="bell-count queue-count" aria-hidden="true">1</span>' in badge


def test_the_warehouse_may_not_open_the_queue_nor_mark_rows(client_for):
    order = held_order()
    client = client_for("Warehouse")
    assert client.get(QUEUE).status_code == 403
    response = client.post(reverse("queue_handled"), {
        "kind": "held_orders", "object_id": order.pk, "version": "x"})
    assert response.status_code == 403
    assert client.get(reverse("queue_count")).status_code == 403
    assert 'data-nav="work_queue"' not in client.get(reverse("dashboard")).content.decode()
    assert not QueueItemHandled.objects.exists()


def test_filtering_by_kind_answers_htmx_with_the_results_only(client_for,
                                                              django_capture_on_commit_callbacks):
    held = held_order()
    with django_capture_on_commit_callbacks(execute=True):
        returned = returned_order("1ZVIEW0001")
    client = client_for("Customer service")
    response = client.get(QUEUE, {"kind": "returns"}, headers={
        "HX-Request": "true", "HX-Target": "queue-results"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert returned.number in body and held.number not in body
    refused = client.get(QUEUE, {"kind": "nonsense"})
    assert refused.status_code == 400
    assert "There is no kind of work called" in refused.content.decode()


def test_mark_handled_hides_the_row_and_refreshes_the_count(client_for, settings):
    settings.WORK_QUEUE_BADGE_SECONDS = 60  # cached: marking starts a new generation
    first, second = held_order(), held_order()
    client = client_for("Customer service")
    badge = client.get(reverse("queue_count")).content.decode()
    assert '<span class="bell-count queue-count" aria-hidden="true">2</span>' in badge
    (row, _other) = workqueue.collect(client.user)
    response = client.post(reverse("queue_handled"), {
        "kind": row.kind, "object_id": row.object_id, "version": row.version,
        "note": "Customer confirmed by phone"},
        headers={"HX-Request": "true", "HX-Target": "queue-results"})
    body = response.content.decode()
    assert response.status_code == 200 and first.number not in body and second.number in body
    # The top bar's count follows out of band.
    assert ('<span id="queue-badge" hx-swap-oob="true"><span class="bell-count queue-count" '
            'aria-hidden="true">1</span>') in body
    mark = QueueItemHandled.objects.get()
    assert (mark.handled_by, mark.note) == (client.user, "Customer confirmed by phone")
    badge = client.get(reverse("queue_count")).content.decode()
    assert '<span class="bell-count queue-count" aria-hidden="true">1</span>' in badge


def test_marking_a_resolved_row_says_so_and_writes_nothing(client_for):
    order = held_order()
    client = client_for("Customer service")
    (row,) = workqueue.collect(client.user)
    order_services.approve_order(order_id=order.pk, actor=None)
    response = client.post(reverse("queue_handled"), {
        "kind": row.kind, "object_id": row.object_id, "version": row.version})
    assert response.status_code == 302
    assert "resolved meanwhile" in client.get(QUEUE).content.decode()
    for bad in ({"kind": "nonsense", "object_id": order.pk, "version": "v"},
                {"kind": row.kind, "object_id": "abc", "version": row.version}):
        assert client.post(reverse("queue_handled"), bad, headers={
            "HX-Request": "true", "HX-Target": "queue-results"}).status_code == 400
    assert not QueueItemHandled.objects.exists()


def test_the_badge_count_is_cached(client_for, settings):
    settings.WORK_QUEUE_BADGE_SECONDS = 60
    held_order()
    client = client_for("Customer service")
    assert workqueue.count_for(client.user) == 1
    held_order()
    assert workqueue.count_for(client.user) == 1  # cached for WORK_QUEUE_BADGE_SECONDS
    settings.WORK_QUEUE_BADGE_SECONDS = 0
    caches["shared"].clear()  # the cached count lapses
    assert workqueue.count_for(client.user) == 2


def _queries_for(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(QUEUE).status_code == 200
    return len(queries)


def test_the_page_makes_as_many_queries_for_many_rows_as_for_one(
        client_for, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    held_order()
    client = client_for("Customer service")
    client.get(QUEUE)  # the session and permission caches warm
    one = _queries_for(client)
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(3):
            held_order()
            returned_order(f"1ZMANY{number:04d}")
    assert len(workqueue.collect(client.user)) == 7
    with django_assert_max_num_queries(one):
        assert client.get(QUEUE).status_code == 200
