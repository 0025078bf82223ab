"""Returns: opened within the window (staff may override with a reason), up
to what was shipped minus what is already on other returns, each transition
on the order's timeline; the race for the last unit decided by the order lock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from oms.lib.errors import ApplicationError, NotAllowed
from oms.models import OutboxMessage
from orders.inputs import ReturnRequest
from orders.models import EventKind, Return, ReturnStatus
from orders.return_documents import send_return_instructions
from orders.return_selectors import returnable_lines
from orders.services import returns as return_services
from tests.factories.fulfillment import shipped_order

pytestmark = pytest.mark.django_db


def _request(order, quantity=1, *, channel="phone", line=None, **extra) -> ReturnRequest:
    line = line or order.lines.get()
    return ReturnRequest.parse({"order_id": order.pk, "channel": channel, "lines": [
        {"order_line_id": line.pk, "quantity": quantity, "reason": "damaged"}], **extra})


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order, _shipment = shipped_order()
    return order


def test_a_return_within_the_window_is_requested_and_on_the_timeline(shipped, make_user):
    agent = make_user("Customer service")
    ret = return_services.request_return(data=_request(shipped, 1), actor=agent)
    assert ret.status == ReturnStatus.REQUESTED
    assert ret.number.startswith(f"R-{timezone.localdate().year}-")
    assert ret.lines.get().quantity == 1
    event = shipped.events.filter(kind=EventKind.RETURN).get()
    assert event.summary == f"Return {ret.number}: Requested."
    assert event.actor == agent
    line = returnable_lines(order_id=shipped.pk).lines[0]
    assert (line.shipped, line.returned, line.returnable) == (2, 1, 1)


def test_outside_the_window_the_customer_is_refused_and_staff_needs_a_reason(shipped, make_user,
                                                                              settings):
    settings.RETURN_WINDOW_DAYS = 30
    agent = make_user("Customer service")
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        with pytest.raises(ApplicationError) as web:
            return_services.request_return(data=_request(shipped, channel="web"), actor=None)
        assert web.value.code == "window_closed"
        with pytest.raises(ApplicationError) as staff:
            return_services.request_return(data=_request(shipped), actor=agent)
        assert "override_reason" in staff.value.field_errors
        assert not Return.objects.exists()
        ret = return_services.request_return(
            data=_request(shipped, override_reason="Loyal customer, parcel was lost"),
            actor=agent)
    assert ret.override_reason == "Loyal customer, parcel was lost"
    assert "Loyal customer" in shipped.events.get(kind=EventKind.RETURN).summary


def test_inside_the_window_an_override_reason_is_not_kept(shipped):
    ret = return_services.request_return(
        data=_request(shipped, channel="web", override_reason="not needed"), actor=None)
    assert ret.override_reason == ""


def test_quantities_are_limited_to_shipped_minus_returned(shipped):
    with pytest.raises(ApplicationError) as too_many:
        return_services.request_return(data=_request(shipped, 3), actor=None)
    assert "lines.0.quantity" in too_many.value.field_errors
    return_services.request_return(data=_request(shipped, 2), actor=None)
    with pytest.raises(ApplicationError) as nothing_left:
        return_services.request_return(data=_request(shipped, 1), actor=None)
    assert "At most 0" in nothing_left.value.field_errors["lines.0.quantity"][0]
    assert Return.objects.count() == 1


def test_a_refused_return_gives_its_units_back(shipped, make_user):
    ret = return_services.request_return(data=_request(shipped, 2), actor=None)
    return_services.refuse_return(
        return_id=ret.pk, actor=make_user("Customer service"),
        data=return_services.ReturnDecision.parse({"reason": "Worn"}))
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.REFUSED and ret.refusal_reason == "Worn"
    assert returnable_lines(order_id=shipped.pk).lines[0].returnable == 2


def test_bad_input_names_the_field_and_saves_nothing(shipped):
    with pytest.raises(ApplicationError) as bad:
        ReturnRequest.parse({"order_id": shipped.pk, "channel": "fax", "lines": [
            {"order_line_id": "x", "quantity": 0, "reason": "bored"}]})
    assert {"channel", "lines.0.order_line_id", "lines.0.quantity",
            "lines.0.reason"} <= set(bad.value.field_errors)
    with pytest.raises(ApplicationError) as empty:
        ReturnRequest.parse({"order_id": shipped.pk, "channel": "phone", "lines": []})
    assert "lines" in empty.value.field_errors
    other_order, _ = shipped_order(tracking_number="1ZOTHER")
    with pytest.raises(ApplicationError) as foreign:
        return_services.request_return(
            data=_request(shipped, line=other_order.lines.get()), actor=None)
    assert "lines.0.order_line_id" in foreign.value.field_errors
    assert not Return.objects.exists()


def test_an_order_not_shipped_cannot_be_returned(db):
    from tests.factories.fulfillment import packed_order

    order, _ = packed_order()
    with pytest.raises(ApplicationError):
        return_services.request_return(data=_request(order), actor=None)


def test_illegal_transitions_are_refused(shipped):
    ret = return_services.request_return(data=_request(shipped), actor=None)
    with pytest.raises(NotAllowed):
        return_services.complete_return_receipt(return_id=ret.pk, actor=None)
    return_services.approve_return(return_id=ret.pk, actor=None)
    with pytest.raises(NotAllowed):
        return_services.approve_return(return_id=ret.pk, actor=None)
    with pytest.raises(NotAllowed):
        return_services.refuse_return(return_id=ret.pk, actor=None,
                                      data=return_services.ReturnDecision(reason="late"))


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_returns_of_the_last_unit_one_wins():
    order, _shipment = shipped_order(
        lines=None, tracking_number="1ZRACE")
    return_services.request_return(data=_request(order, 1), actor=None)  # one unit left
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = return_services.request_return(data=_request(order, 1),
                                                            actor=None)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [r for r in results if isinstance(r, Return)]
    lost = [r for r in results if isinstance(r, ApplicationError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert "lines.0.quantity" in lost[0].field_errors
    assert returnable_lines(order_id=order.pk).lines[0].returned == 2


def _pdf_text(content: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def test_approval_emails_the_instructions_and_the_rma_label_in_the_customers_language(
        shipped, django_capture_on_commit_callbacks, mailoutbox):
    customer = shipped.customer
    customer.preferred_language = "fr"
    customer.save(update_fields=["preferred_language"])
    ret = return_services.request_return(data=_request(shipped), actor=None)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        return_services.approve_return(return_id=ret.pk, actor=None)
    # The outbox runs a handler at least once: a second run sends nothing.
    message = OutboxMessage.objects.get(handler="orders.send_return_instructions")
    send_return_instructions({"return_id": ret.pk, "outbox_message_id": message.pk})
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [customer.email]
    assert shipped.number in email.subject
    assert ret.number in email.body and email.body.startswith("Bonjour")
    (filename, content, mimetype), = email.attachments
    assert filename == f"{ret.number}.pdf" and mimetype == "application/pdf"
    text = _pdf_text(content)
    line = shipped.lines.get()
    assert ret.number in text and shipped.number in text and line.sku in text
    assert f"Commande {shipped.number}" in text  # the label in the customer's language
    assert "MAIN" in text or ret.warehouse.name in text
    assert shipped.events.filter(kind=EventKind.EMAIL, reason="return_approved").count() == 1


def test_refusal_emails_the_customer_the_reason(shipped, django_capture_on_commit_callbacks,
                                                mailoutbox):
    ret = return_services.request_return(data=_request(shipped), actor=None)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        return_services.refuse_return(return_id=ret.pk, actor=None,
                                      data=return_services.ReturnDecision(reason="Used item"))
    (email,) = mailoutbox
    assert ret.number in email.body and "Used item" in email.body


def test_a_return_opened_and_approved_is_in_the_audit_trail_with_who_did_it(shipped, make_user):
    from oms.models import AuditEntry

    agent = make_user("Customer service")
    ret = return_services.request_return(data=_request(shipped, 1), actor=agent)
    return_services.approve_return(return_id=ret.pk, actor=agent)
    rows = list(AuditEntry.objects.filter(object_type="orders.return", object_id=ret.pk)
                .order_by("id").values_list("kind", "field", "before", "after", "actor"))
    assert rows == [
        (AuditEntry.Kind.CREATED, "status", None, ReturnStatus.REQUESTED, agent.pk),
        (AuditEntry.Kind.CREATED, "channel", None, "phone", agent.pk),
        (AuditEntry.Kind.STATUS, "status", ReturnStatus.REQUESTED, ReturnStatus.APPROVED,
         agent.pk),
    ]
