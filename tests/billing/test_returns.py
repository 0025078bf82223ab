"""Settling returns: a refund through a credit note in the gapless series and
one provider refund however often the outbox runs it, store credit, or an
exchange order at no charge, reserved at once; all on the order timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import F

from billing.models import CreditNote, CustomerCredit, Invoice, Payment, PaymentTransaction
from billing.providers import get_provider
from billing.services import returns as settlement
from fulfillment import returns as warehouse_returns
from fulfillment.inputs import InspectionInput, PickScan
from inventory.models import Reservation, Warehouse
from oms.lib.errors import ApplicationError, NotAllowed
from oms.models import OutboxMessage
from orders.inputs import ReturnRequest
from orders.models import EventKind, OrderStatus, ReturnStatus, Settlement
from orders.services import returns as return_services
from tests.billing.invoicing_support import reserved_order
from tests.factories.fulfillment import ship_reserved
from tests.factories.orders import stocked_product
from tests.inventory.test_ledger import assert_ledger_holds

pytestmark = pytest.mark.django_db


def _inspected(order, *, restock=1, scrap=0, quantity=1):
    line = order.lines.get()
    ret = return_services.request_return(actor=None, data=ReturnRequest.parse({
        "order_id": order.pk, "channel": "email",
        "lines": [{"order_line_id": line.pk, "quantity": quantity, "reason": "defective"}]}))
    return_services.approve_return(return_id=ret.pk, actor=None)
    warehouse_returns.scan_return(return_id=ret.pk, actor=None,
                                  data=PickScan(sku=line.sku, quantity=quantity))
    warehouse_returns.finish_receiving(return_id=ret.pk, actor=None)
    return_line = ret.lines.get()
    warehouse_returns.inspect(return_id=ret.pk, actor=None, data=InspectionInput(
        lines={return_line.pk: (restock, scrap, 0)}))
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.INSPECTED
    return ret


@pytest.fixture
def card_order(django_capture_on_commit_callbacks):
    """Two units at 10.00 + 20 % VAT paid by card, shipped, captured, invoiced, paid."""
    product = stocked_product(20, unit_price=Decimal("10.00"), tax_rate=Decimal("20.00"))
    order = reserved_order(on_terms=False, lines=[(product, 2)])
    with django_capture_on_commit_callbacks(execute=True):
        ship_reserved(order, Warehouse.objects.get(code="MAIN"))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID, order.status
    return order


def test_refund_issues_a_gapless_credit_note_and_refunds_the_card_once(
        card_order, django_capture_on_commit_callbacks, make_user, monkeypatch):
    accountant = make_user("Accounting")
    ret = _inspected(card_order)
    provider_calls = []
    payment = Payment.objects.get(order=card_order)
    provider = get_provider(payment.provider)
    real_refund = provider.refund
    monkeypatch.setattr(provider, "refund",
                        lambda **kw: provider_calls.append(kw) or real_refund(**kw))
    with django_capture_on_commit_callbacks(execute=True):
        ret = settlement.settle_return(return_id=ret.pk, actor=accountant,
                                       data=settlement.ReturnSettlementInput(Settlement.REFUND))
    assert ret.status == ReturnStatus.CLOSED and ret.settlement == Settlement.REFUND
    note = CreditNote.objects.get(invoice__order=card_order)
    assert note.invoice == Invoice.objects.get(order=card_order)
    assert ret.credit_note_number == note.number
    assert note.total_gross == ret.settled_amount == Decimal("12.00")
    # The handler runs again (the outbox runs at least once): one refund.
    message = OutboxMessage.objects.get(handler=settlement.REFUND_HANDLER)
    from billing.handlers import refund_return

    refund_return({**message.payload, "outbox_message_id": message.pk})
    assert len(provider_calls) == 1
    assert provider_calls[0]["idempotency_key"] == settlement.refund_key(ret.pk)
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("12.00")
    assert PaymentTransaction.objects.filter(payment=payment, kind="refund").count() == 1
    # Paid back, not kept: the customer's credit balance is zero.
    assert sum(CustomerCredit.objects.filter(customer=card_order.customer)
               .values_list("amount", flat=True)) == 0
    summaries = [e.summary for e in card_order.events.filter(kind=EventKind.RETURN)]
    assert any(note.number in s and "Refund" in s for s in summaries), summaries


def test_credit_notes_of_returns_are_numbered_without_gaps(card_order, make_user):
    first = _inspected(card_order)
    settlement.settle_return(return_id=first.pk, actor=None,
                             data=settlement.ReturnSettlementInput(Settlement.STORE_CREDIT))
    second = _inspected(card_order)
    settlement.settle_return(return_id=second.pk, actor=None,
                             data=settlement.ReturnSettlementInput(Settlement.STORE_CREDIT))
    sequences = sorted(CreditNote.objects.values_list("sequence", flat=True))
    assert sequences == list(range(sequences[0], sequences[0] + 2))


def test_store_credit_keeps_the_amount_with_the_customer(card_order):
    ret = _inspected(card_order, restock=0, scrap=1)
    ret = settlement.settle_return(return_id=ret.pk, actor=None,
                                   data=settlement.ReturnSettlementInput(Settlement.STORE_CREDIT))
    assert ret.settlement == Settlement.STORE_CREDIT
    assert sum(CustomerCredit.objects.filter(customer=card_order.customer)
               .values_list("amount", flat=True)) == Decimal("12.00")
    assert not OutboxMessage.objects.filter(handler=settlement.REFUND_HANDLER).exists()


def test_exchange_places_a_replacement_at_no_charge_reserved_at_once(card_order):
    ret = _inspected(card_order)
    ret = settlement.settle_return(return_id=ret.pk, actor=None,
                                   data=settlement.ReturnSettlementInput(Settlement.EXCHANGE))
    replacement = ret.exchange_order
    assert replacement is not None and replacement.customer == card_order.customer
    assert replacement.status == OrderStatus.RESERVED
    assert replacement.total_gross == Decimal("0.00")
    line = replacement.lines.get()
    assert (line.sku, line.quantity) == (card_order.lines.get().sku, 1)
    assert Reservation.objects.get(order_id=replacement.pk).kind == Reservation.Kind.FIRM
    assert not CreditNote.objects.exists()
    product = line.product
    assert_ledger_holds([product], list(Warehouse.objects.all()))


def test_settling_twice_or_too_early_is_refused(card_order):
    ret = _inspected(card_order)
    settlement.settle_return(return_id=ret.pk, actor=None,
                             data=settlement.ReturnSettlementInput(Settlement.STORE_CREDIT))
    with pytest.raises(NotAllowed):
        settlement.settle_return(return_id=ret.pk, actor=None,
                                 data=settlement.ReturnSettlementInput(Settlement.REFUND))
    with pytest.raises(ApplicationError) as bad:
        settlement.ReturnSettlementInput("cash")
    assert "settlement" in bad.value.field_errors
    assert CreditNote.objects.count() == 1


def test_a_refund_on_an_unpaid_invoice_lowers_what_is_due_and_pays_nothing_back(
        django_capture_on_commit_callbacks):
    product = stocked_product(20, unit_price=Decimal("10.00"), tax_rate=Decimal("20.00"))
    order = reserved_order(on_terms=True, lines=[(product, 2)])
    with django_capture_on_commit_callbacks(execute=True):
        ship_reserved(order, Warehouse.objects.get(code="MAIN"))
    invoice = Invoice.objects.get(order=order)
    assert invoice.outstanding == Decimal("24.00")
    ret = _inspected(order)
    with django_capture_on_commit_callbacks(execute=True):
        settlement.settle_return(return_id=ret.pk, actor=None,
                                 data=settlement.ReturnSettlementInput(Settlement.REFUND))
    invoice.refresh_from_db()
    assert invoice.outstanding == Decimal("12.00")
    assert not OutboxMessage.objects.filter(handler=settlement.REFUND_HANDLER).exists()
    assert not CustomerCredit.objects.filter(customer=order.customer).exists()


def test_a_refund_without_a_captured_payment_is_refused_and_issues_nothing(card_order):
    ret = _inspected(card_order)
    Payment.objects.filter(order=card_order).update(refunded_amount=F("captured_amount"),
                                                    status="refunded")
    with pytest.raises(ApplicationError) as refused:
        settlement.settle_return(return_id=ret.pk, actor=None,
                                 data=settlement.ReturnSettlementInput(Settlement.REFUND))
    assert refused.value.code == "no_payment"
    assert not CreditNote.objects.exists()
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.INSPECTED
