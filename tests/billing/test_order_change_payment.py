"""The payment follows a change of the order before shipment
(billing.services.adjustment): a further authorisation for more, part of
the authorisation released for less, a decline refuses the change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import Payment, PaymentTransaction, TransactionOutcome
from billing.providers.base import Decision
from billing.providers.sandbox import SandboxProvider
from inventory.models import StockLevel
from oms.lib.errors import ApplicationError
from orders.inputs import OrderChange
from orders.models import EventKind, Order, OrderStatus
from orders.services import change_order, preview_order_change
from tests.factories.billing import card
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


def _card_order() -> Order:
    product = stocked_product(20, unit_price=Decimal("10.00"))
    order = make_order(lines=[(product, 2)], payment=card())
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED, order.status
    return order


def _change(order: Order, quantity: int) -> Order:
    data = {"lines": [{"line": order.lines.get().pk, "quantity": quantity}]}
    plan = preview_order_change(order_id=order.pk, data=OrderChange.parse(data), actor=None)
    return change_order(order_id=order.pk, actor=None,
                        data=OrderChange.parse({**data, "version": plan.version}))


def test_more_is_a_further_authorisation_of_the_difference():
    order = _card_order()
    payment = Payment.objects.get(order=order)
    assert payment.amount == Decimal("24.00")
    plan = preview_order_change(order_id=order.pk, data=OrderChange.parse(
        {"lines": [{"line": order.lines.get().pk, "quantity": 3}]}), actor=None)
    assert (plan.payment.action, plan.payment.amount) == ("authorised", "12.00")

    order = _change(order, 3)

    payment.refresh_from_db()
    assert payment.amount == Decimal("36.00") and payment.status == "authorised"
    adjust = PaymentTransaction.objects.get(payment=payment, kind="adjust")
    assert adjust.outcome == TransactionOutcome.APPROVED and adjust.amount == Decimal("36.00")
    assert order.events.get(kind=EventKind.CHANGED).data["payment"] == {
        "action": "authorised", "amount": "12.00", "currency": "EUR"}


def test_less_releases_part_of_the_authorisation():
    order = _card_order()
    _change(order, 1)
    payment = Payment.objects.get(order=order)
    assert payment.amount == Decimal("12.00") and payment.status == "authorised"
    assert PaymentTransaction.objects.filter(payment=payment, kind="adjust").count() == 1


def test_a_declined_increase_refuses_the_change(monkeypatch):
    order = _card_order()
    monkeypatch.setattr(SandboxProvider, "decide_increase", lambda self, **kw: Decision(
        outcome=TransactionOutcome.INSUFFICIENT_FUNDS, status="authorised",
        decline_code="insufficient_funds", message="The card has insufficient funds."))
    with pytest.raises(ApplicationError) as refused:
        _change(order, 5)
    assert refused.value.code == "payment_declined"
    assert "insufficient funds" in refused.value.field_errors["payment"][0]
    order.refresh_from_db()
    assert order.lines.get().quantity == 2 and order.total_gross == Decimal("24.00")
    assert Payment.objects.get(order=order).amount == Decimal("24.00")
    assert StockLevel.objects.get(product__sku=order.lines.get().sku).reserved == 2
    assert not order.events.filter(kind=EventKind.CHANGED).exists()


def test_the_adjustment_is_idempotent_by_its_key():
    order = _card_order()
    payment = Payment.objects.get(order=order)
    provider = SandboxProvider()
    first = provider.adjust(reference=payment.provider_reference, amount=Decimal("30.00"),
                            idempotency_key="change-1")
    again = provider.adjust(reference=payment.provider_reference, amount=Decimal("30.00"),
                            idempotency_key="change-1")
    assert again.replayed and again.transaction_id == first.transaction_id
    payment.refresh_from_db()
    assert payment.amount == Decimal("30.00")
    assert PaymentTransaction.objects.filter(payment=payment, kind="adjust").count() == 1


def test_on_account_the_higher_total_must_fit_the_credit_limit():
    from tests.factories.billing import net_terms
    from tests.factories.customers import CustomerFactory

    customer = CustomerFactory(payment_preference="net_terms", payment_terms_days=30,
                               credit_limit=Decimal("100.00"), credit_limit_currency="EUR")
    product = stocked_product(50, unit_price=Decimal("10.00"))
    order = make_order(customer=customer, lines=[(product, 2)], payment=net_terms())
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED, order.status
    order = _change(order, 5)  # 60.00: within the limit
    assert Payment.objects.get(order=order).amount == Decimal("60.00")
    with pytest.raises(ApplicationError) as refused:
        _change(order, 10)  # 120.00: over it
    assert "credit limit" in refused.value.message
    order.refresh_from_db()
    assert order.total_gross == Decimal("60.00")
