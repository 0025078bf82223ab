"""Bulk actions on the order list and the work queue: each order runs on its
own (a refusal is that row's result, in plain words), bad input changes
nothing, and only what the role may do is offered and run."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from oms.models import OutboxMessage
from orders import services as order_services
from orders.models import HoldReason, Order, OrderStatus
from tests.factories.fulfillment import WarehouseFactory, reserved_order, shelved_product
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db

BULK = reverse("orders:bulk")


def held_order(**kwargs) -> Order:
    order = make_order(**kwargs)
    return order_services.hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL,
                                     actor=None)


def report_rows(response) -> dict[int, tuple[str, str]]:
    """{order id: (Done | Not done, details)} from the report's table."""
    import re

    body = response.content.decode()
    rows = re.findall(r'<tr data-outcome="(\d+)">.*?<span class="badge \w+">([^<]+)</span>'
                      r'</td>\s*<td>([^<]*)</td>', body, re.S)
    return {int(pk): (result, detail.strip()) for pk, result, detail in rows}


def test_cancel_reports_each_order_in_plain_words(client_for):
    client = client_for("Customer service")
    open_order = held_order()
    cancelled = held_order()
    order_services.cancel_order(order_id=cancelled.pk, actor=None, reason="duplicate")
    response = client.post(BULK, {"action": "cancel", "reason": "customer asked",
                                  "ids": [open_order.pk, cancelled.pk]})
    assert response.status_code == 200
    assert report_rows(response) == {open_order.pk: ("Done", "Cancelled."),
                                     cancelled.pk: ("Not done", "Already cancelled.")}
    assert "1 order done, 1 not possible." in response.content.decode()
    open_order.refresh_from_db()
    assert open_order.status == OrderStatus.CANCELLED


def test_approve_reports_done_already_done_and_refused(client_for,
                                                       django_capture_on_commit_callbacks):
    client = client_for("Sales")
    held = held_order()
    reserved = reserved_order([(shelved_product(WarehouseFactory(code="MAIN"), 5), 1)])
    cancelled = held_order()
    order_services.cancel_order(order_id=cancelled.pk, actor=None, reason="duplicate")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BULK, {"action": "approve",
                                      "ids": [held.pk, reserved.pk, cancelled.pk]})
    assert report_rows(response) == {
        held.pk: ("Done", "Approved."),
        reserved.pk: ("Not done", "Already approved."),
        cancelled.pk: ("Not done", "Not possible while the order is cancelled."),
    }


@pytest.mark.parametrize(("data", "select", "message"), [
    ({"action": "cancel", "reason": "x"}, False, "Select at least one row."),
    ({"action": "cancel", "reason": "x", "ids": ["999999"]}, True,
     "999999 is not in the list any more; nothing was changed."),
    ({"action": "cancel", "reason": "x", "ids": ["abc"]}, True,
     "which is not a row of this list"),
    ({"action": "cancel", "reason": "  "}, True, "Say why the orders are cancelled."),
    ({"action": "explode"}, True, "Choose an action from the list."),
])
def test_bad_input_changes_nothing_and_says_why(client_for, data, select, message):
    client = client_for("Customer service")
    order = held_order()
    if select:
        data = {**data, "ids": [*data.get("ids", []), order.pk]}
    response = client.post(BULK, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD


def test_more_rows_than_the_limit_are_refused(client_for, settings):
    settings.BULK_ACTION_MAX_ROWS = 2
    client = client_for("Customer service")
    orders = [held_order() for _ in range(3)]
    response = client.post(BULK, {"action": "cancel", "reason": "x",
                                  "ids": [order.pk for order in orders]})
    assert response.status_code == 400
    assert "Select at most 2 rows at a time (3 selected)." in response.content.decode()
    assert not Order.objects.filter(status=OrderStatus.CANCELLED).exists()


def test_an_action_the_role_may_not_do_is_refused_and_not_offered(client_for):
    client = client_for("Customer service")  # may cancel, may not approve
    order = held_order()
    response = client.post(BULK, {"action": "approve", "ids": [order.pk]})
    assert response.status_code == 403
    assert "Your role may not approve." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    page = client.get(reverse("orders:list")).content.decode()
    assert 'value="cancel"' in page and 'value="approve"' not in page
    assert 'value="pick_list"' not in page


def test_the_warehouse_creates_pick_lists_per_order(client_for):
    client = client_for("Warehouse")
    warehouse = WarehouseFactory(code="MAIN")
    reserved = reserved_order([(shelved_product(warehouse, 5, bin_code="A-1"), 1)])
    held = held_order()
    response = client.post(BULK, {"action": "pick_list", "ids": [reserved.pk, held.pk]})
    rows = report_rows(response)
    assert rows[reserved.pk][0] == "Done" and rows[reserved.pk][1].startswith("Pick list ")
    assert rows[held.pk] == ("Not done", "Nothing reserved to pick.")
    again = report_rows(client.post(BULK, {"action": "pick_list", "ids": [reserved.pk]}))
    assert again == {reserved.pk: ("Not done", "Already on a pick list.")}


def test_resend_queues_the_last_customer_email_again(client_for, mailoutbox,
                                                     django_capture_on_commit_callbacks):
    client = client_for("Customer service")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order()
    draft = make_order(draft=True)
    sent = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BULK, {"action": "resend_email", "ids": [order.pk, draft.pk]})
    assert report_rows(response) == {
        order.pk: ("Done", "E-mail queued again."),
        draft.pk: ("Not done", "No e-mail was sent to the customer about this order yet."),
    }
    assert len(mailoutbox) == sent + 1
    assert mailoutbox[-1].to == [order.customer.email]
    assert OutboxMessage.objects.filter(handler="orders.send_order_email",
                                        payload__order_id=order.pk).count() == 2


def test_export_of_the_selection_holds_only_those_orders(client_for):
    client = client_for("Accounting")
    chosen, other = held_order(), held_order()
    response = client.get(reverse("reporting:order_export"), {"ids": [chosen.pk]})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    numbers = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert numbers == [chosen.number] and other.number not in numbers
    bad = client.get(reverse("reporting:order_export"), {"ids": ["999999"]})
    assert bad.status_code == 400


def test_the_queue_offers_the_bulk_actions_on_its_orders(client_for, settings):
    settings.WORK_QUEUE_HOLD_HOURS = 0
    client = client_for("Customer service")
    order = held_order()
    page = client.get(reverse("work_queue")).content.decode()
    assert f'name="ids" value="{order.pk}" form="bulk-form"' in page
    response = client.post(BULK, {"action": "cancel", "reason": "x", "ids": [order.pk],
                                  "back": "queue"})
    assert report_rows(response) == {order.pk: ("Done", "Cancelled.")}
    assert f'href="{reverse("work_queue")}"' in response.content.decode()
    assert order.number not in client.get(reverse("work_queue")).content.decode()
