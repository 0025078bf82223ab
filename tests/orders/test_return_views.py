"""The returns screens: list with filters and search, Start a return from
the order page, the detail's actions per role, the warehouse's scan and
inspection, accounting's settlement, the admin; bad input changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import Return, ReturnStatus
from tests.factories.fulfillment import shipped_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order, _shipment = shipped_order()
    return order


def _open(client, order, quantity="1", **extra):
    line = order.lines.get()
    return client.post(reverse("orders:start_return", args=[order.pk]), {
        "channel": "phone", f"quantity-{line.pk}": quantity, f"reason-{line.pk}": "damaged",
        **extra})


def test_customer_service_starts_a_return_from_the_order_page(client_for, shipped):
    client = client_for("Customer service")
    page = client.get(reverse("orders:detail", args=[shipped.pk])).content.decode()
    assert reverse("orders:start_return", args=[shipped.pk]) in page
    form = client.get(reverse("orders:start_return", args=[shipped.pk]))
    assert form.status_code == 200 and "at most 2" in form.content.decode()
    response = _open(client, shipped)
    ret = Return.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:return_detail", args=[ret.pk])
    detail = client.get(response["Location"]).content.decode()
    assert ret.number in detail and 'data-action="approve"' in detail
    assert 'data-action="settle"' not in detail


def test_bad_quantities_and_channels_answer_400_and_save_nothing(client_for, shipped):
    client = client_for("Customer service")
    line = shipped.lines.get()
    too_many = _open(client, shipped, quantity="3")
    assert too_many.status_code == 400 and "At most 2" in too_many.content.decode()
    letters = _open(client, shipped, quantity="two")
    assert letters.status_code == 400
    web = _open(client, shipped, channel="web")
    assert web.status_code == 400 and "phone, e-mail or store" in web.content.decode()
    nothing = client.post(reverse("orders:start_return", args=[shipped.pk]),
                          {"channel": "phone", f"quantity-{line.pk}": ""})
    assert nothing.status_code == 400
    assert not Return.objects.exists()
    assert client.get(reverse("orders:start_return", args=[999999])).status_code == 404


def test_roles_decide_receive_and_settle(client_for, shipped, make_user, client):
    _open(client_for("Customer service"), shipped)
    ret = Return.objects.get()
    client.force_login(make_user("Warehouse", username="picker"))
    assert client.post(reverse("orders:approve_return", args=[ret.pk])).status_code == 403
    assert client.post(reverse("billing:settle_return", args=[ret.pk]),
                       {"settlement": "refund"}).status_code == 403
    client.force_login(make_user("Customer service", username="agent2"))
    refused = client.post(reverse("orders:refuse_return", args=[ret.pk]), {"reason": ""},
                          HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and "reason" in refused.content.decode()
    assert client.post(reverse("orders:approve_return", args=[ret.pk])).status_code == 302
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.APPROVED
    again = client.post(reverse("orders:approve_return", args=[ret.pk]), HTTP_HX_REQUEST="true")
    assert again.status_code == 409


def test_the_warehouse_scans_inspects_and_accounting_settles(client_for, shipped, make_user,
                                                             client):
    from billing.services import approve_order_payment  # noqa: F401  billing is installed

    _open(client_for("Customer service"), shipped)
    ret = Return.objects.get()
    from orders.services import returns as return_services

    return_services.approve_return(return_id=ret.pk, actor=None)
    client.force_login(make_user("Warehouse", username="goods-in"))
    queue = client.get(reverse("fulfillment:returns")).content.decode()
    assert ret.number in queue
    sku = shipped.lines.get().sku
    bad = client.post(reverse("fulfillment:scan_return", args=[ret.pk]), {"sku": "NOPE"},
                      HTTP_HX_REQUEST="true")
    assert bad.status_code == 400
    ok = client.post(reverse("fulfillment:scan_return", args=[ret.pk]), {"sku": sku},
                     HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and f"1 x {sku} received." in ok.content.decode()
    client.post(reverse("fulfillment:finish_return", args=[ret.pk]))
    line = ret.lines.get()
    bad_inspection = client.post(reverse("fulfillment:inspect_return", args=[ret.pk]),
                                 {f"restock-{line.pk}": "-1"})
    assert bad_inspection.status_code == 400
    client.post(reverse("fulfillment:inspect_return", args=[ret.pk]),
                {f"restock-{line.pk}": "1"})
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.INSPECTED
    client.force_login(make_user("Accounting", username="accounts"))
    page = client.get(reverse("orders:return_detail", args=[ret.pk])).content.decode()
    assert 'data-action="settle"' in page
    wrong = client.post(reverse("billing:settle_return", args=[ret.pk]), {"settlement": "cash"})
    assert wrong.status_code == 302
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.INSPECTED
    assert client.post(reverse("billing:settle_return", args=[999999]),
                       {"settlement": "refund"}).status_code == 404


def test_list_filters_by_state_searches_and_refuses_an_unknown_state(client_for, shipped):
    client = client_for("Customer service")
    _open(client, shipped)
    ret = Return.objects.get()
    url = reverse("orders:returns")
    assert ret.number in client.get(url, {"status": "requested"}).content.decode()
    assert ret.number not in client.get(url, {"status": "closed"}).content.decode()
    assert ret.number in client.get(url, {"q": shipped.number}).content.decode()
    assert ret.number in client.get(url, {"q": shipped.customer.name}).content.decode()
    assert ret.number not in client.get(url, {"q": "nobody-at-all"}).content.decode()
    bad = client.get(url, {"status": "lost"})
    assert bad.status_code == 400 and "Unknown status" in bad.content.decode()


def test_the_label_pdf_and_the_admin(client_for, shipped, make_user, client):
    _open(client_for("Customer service"), shipped)
    ret = Return.objects.get()
    pdf = client.get(reverse("orders:return_label", args=[ret.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    client.force_login(make_user("Admin", username="root"))
    assert client.get(reverse("admin:orders_return_changelist")).status_code == 200
    assert client.get(reverse("admin:orders_return_change", args=[ret.pk])).status_code == 200
    client.post(reverse("admin:orders_return_changelist"),
                {"action": "approve_selected", "_selected_action": [ret.pk]})
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.APPROVED
