"""The "shipped" customer e-mail: carrier and tracking, through the outbox,
once per shipment, logged on the order's timeline."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fulfillment import services
from orders.models import EventKind
from tests.factories.fulfillment import CarrierServiceFactory, packed_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_shipping_mails_carrier_and_tracking_once(mailoutbox):
    order, shipment = packed_order()
    mailoutbox.clear()
    service = CarrierServiceFactory(carrier__name="Colis Rapide", name="Express",
                                    transit_days=1)
    services.ship(shipment_id=shipment.pk,
                  data=services.Handover.parse(carrier_service_id=service.pk,
                                               tracking_number="CR-42"),
                  actor=None)
    shipped = [m for m in mailoutbox if "on its way" in m.subject]
    assert len(shipped) == 1
    mail = shipped[0]
    assert order.number in mail.subject and mail.to == [order.customer.email]
    for expected in ("Colis Rapide", "Express", "CR-42", "https://track.example/?n=CR-42"):
        assert expected in mail.body
    html, _mimetype = mail.alternatives[0]
    assert 'href="https://track.example/?n=CR-42"' in html
    assert order.events.filter(kind=EventKind.EMAIL, reason="shipped").count() == 1


def test_order_page_shows_the_shipment_and_its_tracking(client_for):
    order, shipment = packed_order()
    services.ship(shipment_id=shipment.pk,
                  data=services.Handover.parse(carrier_service_id=CarrierServiceFactory().pk,
                                               tracking_number="WISMO-1"),
                  actor=None)
    response = client_for("Customer service").get(reverse("orders:detail", args=[order.pk]))
    body = response.content.decode()
    assert shipment.number in body and "WISMO-1" in body
    assert client_for("Sales").get(reverse("orders:detail", args=[order.pk])).status_code == 200
