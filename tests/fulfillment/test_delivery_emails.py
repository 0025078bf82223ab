"""The customer's e-mails about a parcel after it left: delivered (once per
parcel, the last one asks for a rating), carrier exceptions (once per kind
and parcel) and a parcel returned to us (which opens a return)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment import services
from fulfillment.inputs import CarrierEvent
from fulfillment.models import Shipment, ShipmentEvent
from oms.lib.errors import ApplicationError
from oms.models import OutboxMessage
from orders.models import Order, Return, ReturnStatus
from tests.factories.fulfillment import shipped_order
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def _shipped(tracking: str = "1ZFEED0001") -> tuple[Order, Shipment]:
    order, shipment = shipped_order(tracking_number=tracking)
    # Handed over yesterday, so the carrier's scans are plausible.
    Shipment.objects.filter(pk=shipment.pk).update(
        shipped_at=timezone.now() - timedelta(days=1))
    return order, Shipment.objects.select_related("carrier_service__carrier").get(pk=shipment.pk)


def _event(shipment: Shipment, status: str, **fields) -> Shipment:
    return services.record_carrier_event(CarrierEvent(
        carrier_code=shipment.carrier_service.carrier.code,
        tracking_number=shipment.tracking_number, status=status, **fields))


def _mails(mailoutbox, words: str) -> list:
    return [mail for mail in mailoutbox if words in mail.subject]


def test_a_repeated_delivered_scan_mails_the_customer_once_and_asks_for_a_rating(mailoutbox):
    order, shipment = _shipped()
    mailoutbox.clear()
    _event(shipment, "delivered")
    _event(shipment, "delivered")
    delivered = _mails(mailoutbox, "parcel delivered")
    assert len(delivered) == 1
    mail = delivered[0]
    assert mail.to == [order.customer.email] and order.number in mail.subject
    assert "has been delivered" in mail.body
    assert "/o/" in mail.body and "#feedback" in mail.body  # the rating link
    order.refresh_from_db()
    assert order.is_delivered
    assert ShipmentEvent.objects.filter(shipment=shipment, status="delivered").count() == 1


def test_staff_confirmation_mails_the_customer_too(mailoutbox):
    order, shipment = _shipped()
    mailoutbox.clear()
    services.confirm_delivery(shipment_id=shipment.pk, actor=None, note="signed by phone")
    assert len(_mails(mailoutbox, "parcel delivered")) == 1
    order.refresh_from_db()
    assert order.is_delivered


def test_two_threads_delivering_the_same_scan_send_one_email(mailoutbox):
    for attempt in range(3):
        order, shipment = _shipped(f"1ZRACE{attempt}")
        mailoutbox.clear()
        results = run_together(lambda s=shipment: _event(s, "delivered"),
                                lambda s=shipment: _event(s, "delivered"))
        assert not [r for r in results if isinstance(r, Exception)], results
        assert len(_mails(mailoutbox, "parcel delivered")) == 1
        assert ShipmentEvent.objects.filter(shipment=shipment, status="delivered").count() == 1
        assert OutboxMessage.objects.filter(
            dedup_key=f"orders:email:{order.pk}:delivered:{shipment.pk}").count() == 1


def test_exceptions_mail_once_per_kind_and_the_promised_delivery_mail_follows(mailoutbox):
    order, shipment = _shipped()
    mailoutbox.clear()
    _event(shipment, "exception", exception_kind="delay", description="Storm")
    _event(shipment, "exception", exception_kind="delay")
    _event(shipment, "exception", exception_kind="failed_delivery")
    news = _mails(mailoutbox, "news about your parcel")
    assert len(news) == 2
    assert "is delayed" in news[0].body and "Storm" in news[0].body
    assert "could not deliver" in news[1].body
    assert "https://track.example/?n=1ZFEED0001" in news[1].body
    # "We will e-mail you as soon as it is delivered."
    assert all("as soon as it is delivered" in mail.body for mail in news)
    _event(shipment, "delivered")
    assert len(_mails(mailoutbox, "parcel delivered")) == 1
    assert ShipmentEvent.objects.filter(shipment=shipment, exception_kind="delay").count() == 2


def test_an_exception_without_a_kind_is_other():
    _order, shipment = _shipped()
    _event(shipment, "exception")
    assert ShipmentEvent.objects.get(shipment=shipment).exception_kind == "other"


def test_a_kind_on_another_status_is_a_field_error():
    with pytest.raises(ApplicationError) as refused:
        CarrierEvent(carrier_code="X", tracking_number="1", status="in_transit",
                     exception_kind="delay")
    assert "exception_kind" in refused.value.field_errors
    with pytest.raises(ApplicationError) as refused:
        CarrierEvent(carrier_code="X", tracking_number="1", status="exception",
                     exception_kind="lost")
    assert "exception_kind" in refused.value.field_errors


def test_returned_to_sender_then_returned_opens_the_promised_return(mailoutbox, client):
    order, shipment = _shipped()
    mailoutbox.clear()
    _event(shipment, "exception", exception_kind="returned_to_sender")
    announced = _mails(mailoutbox, "news about your parcel")
    assert len(announced) == 1 and "open a return" in announced[0].body
    _event(shipment, "returned")
    _event(shipment, "returned")
    returned = _mails(mailoutbox, "came back to us")
    assert len(returned) == 1
    opened = Return.objects.get(order=order)
    assert opened.status == ReturnStatus.IN_TRANSIT
    assert f"We have opened return {opened.number}" in returned[0].body
    # "... which you can follow on your order page."
    page_url = returned[0].body.split("Follow your order: ")[1].split()[0]
    assert opened.number in client.get(page_url.split("testserver")[-1]).content.decode()


def test_a_partial_parcel_names_its_items_and_only_the_last_asks_for_a_rating(mailoutbox):
    from fulfillment.inputs import Handover
    from tests.factories.fulfillment import (
        CarrierServiceFactory,
        pick_reserved,
        reserved_order,
        shelved_product,
    )
    from tests.factories.inventory import WarehouseFactory

    north, south = WarehouseFactory(code="NORTH"), WarehouseFactory(code="SOUTH")
    lamp, desk = shelved_product(north, 5, name="Lamp"), shelved_product(south, 5, name="Desk")
    order = reserved_order([(lamp, 1), (desk, 1)])
    parcels = []
    for warehouse, tracking in ((north, "1ZPART1"), (south, "1ZPART2")):
        pick_reserved(order, warehouse)
        packed = services.pack(order_id=order.pk, warehouse_id=warehouse.pk,
                               data=services.Packing.parse(package_type="box", weight="1"),
                               actor=None)
        services.ship(shipment_id=packed.pk, actor=None, data=Handover(
            carrier_service=CarrierServiceFactory(), tracking_number=tracking))
        Shipment.objects.filter(pk=packed.pk).update(
            shipped_at=timezone.now() - timedelta(days=1))
        parcels.append(Shipment.objects.select_related("carrier_service__carrier")
                       .get(pk=packed.pk))
    mailoutbox.clear()
    _event(parcels[0], "delivered")
    first = _mails(mailoutbox, "parcel delivered")
    assert len(first) == 1
    assert parcels[0].number in first[0].body and "Lamp" in first[0].body
    assert "Desk" not in first[0].body and "#feedback" not in first[0].body
    assert "each of the other parcels" in first[0].body
    order.refresh_from_db()
    assert not order.is_delivered
    _event(parcels[1], "delivered")
    second = _mails(mailoutbox, "parcel delivered")[1]
    assert parcels[1].number in second.body and "#feedback" in second.body
    order.refresh_from_db()
    assert order.is_delivered


def test_with_a_delay_the_rating_request_is_a_later_email(mailoutbox, settings):
    settings.FEEDBACK_REQUEST_DELAY_HOURS = 48
    order, shipment = _shipped()
    mailoutbox.clear()
    _event(shipment, "delivered")
    assert "#feedback" not in _mails(mailoutbox, "parcel delivered")[0].body
    request = OutboxMessage.objects.get(dedup_key=f"orders:email:{order.pk}:feedback_request")
    assert request.dispatched_at is None and request.status == "pending"
    assert request.available_at > timezone.now() + timedelta(hours=47)
    assert not _mails(mailoutbox, "How was your order")
    # Due: the relay sends it.
    OutboxMessage.objects.filter(pk=request.pk).update(
        available_at=timezone.now() - timedelta(seconds=1))
    from oms.lib import outbox
    outbox.relay()
    asked = _mails(mailoutbox, "How was your order")
    assert len(asked) == 1 and "#feedback" in asked[0].body


def test_a_delayed_request_is_not_sent_once_the_customer_has_rated(mailoutbox, settings):
    from oms.lib import outbox
    from orders.inputs import FeedbackInput
    from orders.services import submit_feedback

    settings.FEEDBACK_REQUEST_DELAY_HOURS = 24
    order, shipment = _shipped()
    _event(shipment, "delivered")
    submit_feedback(order_id=order.pk, data=FeedbackInput.parse({"rating": 5}),
                    language="en", actor=None)
    OutboxMessage.objects.filter(
        dedup_key=f"orders:email:{order.pk}:feedback_request").update(
        available_at=timezone.now() - timedelta(seconds=1))
    mailoutbox.clear()
    outbox.relay()
    assert not _mails(mailoutbox, "How was your order")
    assert OutboxMessage.objects.get(
        dedup_key=f"orders:email:{order.pk}:feedback_request").status == "done"
