"""The typed timeline writers: facts in the payload, text at reading time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from orders import events
from orders.models import EventKind, HoldReason, OrderEvent
from orders.services import expire_orders
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db


def _read(event: OrderEvent, language: str) -> str:
    with translation.override(language):
        text = OrderEvent.objects.get(pk=event.pk).summary
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_each_business_fact_is_stored_as_data_and_read_in_the_readers_language():
    order = make_order()
    with translation.override("fr"):  # the writer's language changes nothing stored
        credit = events.credit_applied(order, actor=None, invoice_number="INV-1",
                                       amount=Decimal("12.50"), currency="EUR")
        prepayment = events.prepayment_received(order, actor=None,
                                                waiting_for=HoldReason.NEW_CUSTOMER)
        short = events.short_picked(order, actor=None, short={7: 2}, skus={7: "SKU-7"})
    assert (credit.kind, credit.reason, credit.data) == (
        EventKind.CREDIT_APPLIED, "",
        {"invoice_number": "INV-1", "amount": "12.50", "currency": "EUR"})
    assert short.data == {"short_pick": {"7": 2}, "skus": {"7": "SKU-7"}}

    assert _read(credit, "en") == "Customer credit of €12.50 applied to invoice INV-1."
    assert _read(credit, "fr") == "Avoir client de 12,50 € imputé sur la facture INV-1."
    assert _read(prepayment, "en") == (
        "The prepayment was received. Still waiting for approval: New customer needs approval")
    assert _read(prepayment, "fr").startswith(
        "Le prépaiement a été reçu. Approbation toujours en attente : ")
    assert _read(short, "en") == "Short pick: missing units backordered."
    assert _read(short, "fr") == (
        "Prélèvement incomplet : unités manquantes mises en attente de stock.")


def test_typed_text_stays_as_written():
    order = make_order()
    note = events.note_added(order, actor=None, text="Gift wrap, please")
    credit_note = events.credit_note_issued(order, actor=None, invoice_number="INV-1",
                                            credit_note_number="CN-1", reason="Damaged box")
    short = events.short_picked(order, actor=None, short={1: 1}, skus={1: "A"},
                                reason="Shelf empty")
    assert _read(note, "fr") == "Gift wrap, please"
    assert _read(credit_note, "fr") == "Avoir CN-1 sur la facture INV-1 : Damaged box"
    assert _read(short, "fr") == "Shelf empty"


def test_an_expiry_is_explained_in_the_readers_language():
    order = make_order()
    with translation.override("fr"):
        assert expire_orders(now=timezone.now() + timedelta(days=30)) == 1
    event = order.events.get(to_status="expired")
    assert (event.reason, event.data) == ("", {"cause": "hold_lapsed"})
    assert _read(event, "en") == "The stock hold lapsed before the payment was approved."
    assert _read(event, "fr") == (
        "La réservation de stock a expiré avant l'approbation du paiement.")
