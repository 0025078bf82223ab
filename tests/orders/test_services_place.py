"""place_order / place_draft: validation, pricing, holds, events, e-mail."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from inventory.api import InsufficientStock
from inventory.models import Reservation, StockLevel
from oms.lib.errors import ApplicationError, NotAllowed
from oms.models import OutboxMessage
from orders.models import EventKind, Order, OrderEvent, OrderLine, OrderStatus
from orders.payments import APPROVAL_HANDLER, PaymentDetails
from orders.services import LineInput, PlaceOrder, place_draft, place_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.inventory import ProductFactory, price_in_default_lists
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


def _place(customer, lines, **overrides):
    args = {"customer": customer, "lines": lines, "channel": "phone", "currency": "EUR",
            "shipping_address": address_data()}
    args.update(overrides)
    actor = args.pop("actor", None)
    return place_order(PlaceOrder.parse(args), actor=actor)


def _nothing_written():
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert Reservation.objects.count() == 0
    assert not OutboxMessage.objects.filter(handler__startswith="orders.").exists()


def test_place_order_snapshots_prices_holds_stock_and_queues_email(make_user, mailoutbox):
    user = make_user("Sales")
    customer = CustomerFactory()
    pen = stocked_product(10, unit_price=Decimal("1.99"), tax_rate=Decimal("20.00"))
    book = stocked_product(10, unit_price=Decimal("12.50"), tax_rate=Decimal("5.50"))

    order = _place(customer, [LineInput(pen.sku, 3), LineInput(book.sku, 1)], actor=user,
                   payment=PaymentDetails(method="card", card_number="4242424242424242"))

    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert order.number.startswith(f"SO-{date.today().year}-")
    assert order.payment_method == "card"
    assert order.created_by == user
    assert order.placed_at is not None and order.hold_expires_at > order.placed_at
    lines = list(order.lines.all())
    assert [(line.sku, line.unit_price, line.quantity, line.line_net) for line in lines] == [
        (pen.sku, Decimal("1.99"), 3, Decimal("5.97")),
        (book.sku, Decimal("12.50"), 1, Decimal("12.50")),
    ]
    # tax per rate on the per-rate net: 5.97 * 20% = 1.194 -> 1.19; 12.50 * 5.5% = 0.6875 -> 0.69
    assert (order.total_net, order.total_tax, order.total_gross) == (
        Decimal("18.47"), Decimal("1.88"), Decimal("20.35"))
    held = {r.order_line_id: r.quantity for r in Reservation.objects.filter(order_id=order.pk)}
    assert held == {lines[0].pk: 3, lines[1].pk: 1}
    assert StockLevel.objects.get(product=pen).reserved == 3
    events = list(order.events.values_list("kind", "from_status", "to_status", "actor_id"))
    assert events[:2] == [(EventKind.CREATED, "", "draft", user.pk),
                          (EventKind.STATUS_CHANGED, "draft", "placed", user.pk)]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [customer.email]
    assert order.number in mailoutbox[0].subject


def test_later_catalogue_price_change_does_not_touch_the_order():
    product = stocked_product(5, unit_price=Decimal("10.00"))
    order = make_order(lines=[(product, 1)])
    price_in_default_lists(product, Decimal("99.00"))
    order.refresh_from_db()
    assert order.lines.get().unit_price == Decimal("10.00")
    assert order.total_net == Decimal("10.00")


def test_payment_approver_is_called_after_commit_with_the_payment(approver_calls):
    payment = PaymentDetails(method="card", card_number="4242424242424242",
                             idempotency_key="k1")
    order = make_order(payment=payment)
    # Through the outbox, with the gateway's token in place of the card number.
    tokenized = PaymentDetails(method="card", idempotency_key="k1",
                               card_token="tok_sandbox:approve:Visa:4242")
    assert approver_calls == [{"order_id": order.pk, "payment": tokenized, "actor": None}]
    (row,) = OutboxMessage.objects.filter(handler=APPROVAL_HANDLER).values_list("payload",
                                                                                 flat=True)
    assert "4242424242424242" not in json.dumps(row)


def test_the_approval_comes_from_the_outbox_once_the_placement_committed(approver_calls):
    product = stocked_product()
    with transaction.atomic():  # the placing transaction, held open
        order = make_order(lines=[(product, 1)], payment=PaymentDetails(method="bank_transfer"))
        assert approver_calls == []
        assert OutboxMessage.objects.get(handler=APPROVAL_HANDLER).status == "pending"
    assert [c["order_id"] for c in approver_calls] == [order.pk]
    assert OutboxMessage.objects.get(handler=APPROVAL_HANDLER).status == "done"


def test_blocked_customer_cannot_order():
    customer = CustomerFactory(standing="blocked")
    product = stocked_product()
    with pytest.raises(ApplicationError) as exc:
        _place(customer, [LineInput(product.sku, 1)])
    assert "customer" in exc.value.field_errors
    _nothing_written()


@pytest.mark.parametrize("sku, message", [("NOPE-1", "Unknown SKU"), ("", "Enter a SKU")])
def test_unknown_or_empty_sku_is_a_field_error(sku, message):
    product = stocked_product()
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [LineInput(product.sku, 1), LineInput(sku, 1)])
    assert message in exc.value.field_errors["lines.1.sku"][0]
    _nothing_written()


def test_inactive_product_is_refused():
    product = stocked_product(is_active=False)
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [LineInput(product.sku, 1)])
    assert "no longer sold" in exc.value.field_errors["lines.0.sku"][0]
    _nothing_written()


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", None, True, Decimal("1"), 10**7])
def test_quantity_must_be_a_positive_whole_number(quantity):
    product = stocked_product()
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [LineInput(product.sku, quantity)])
    assert "lines.0.quantity" in exc.value.field_errors
    _nothing_written()


@pytest.mark.parametrize("currency", ["XXX", "eur", "", None, 978])
def test_currency_must_be_a_configured_one(currency):
    product = stocked_product()
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [LineInput(product.sku, 1)], currency=currency)
    assert "currency" in exc.value.field_errors
    _nothing_written()


def test_an_order_needs_lines():
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [])
    assert "lines" in exc.value.field_errors
    _nothing_written()


def test_unknown_channel_and_payment_method_are_field_errors():
    product = stocked_product()
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [LineInput(product.sku, 1)], channel="fax",
               payment=PaymentDetails(method="cheque"))
    assert set(exc.value.field_errors) == {"channel", "payment.method"}
    _nothing_written()


@pytest.mark.parametrize("address, field", [
    (address_data(city=""), "shipping_address.city"),
    (address_data(country="France"), "shipping_address.country"),
    (address_data(postal_code="x" * 50), "shipping_address.postal_code"),
    ("12 rue de la Paix", "shipping_address"),
])
def test_bad_shipping_address_is_a_field_error(address, field):
    product = stocked_product()
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [LineInput(product.sku, 1)], shipping_address=address)
    assert field in exc.value.field_errors
    _nothing_written()


def test_promised_date_in_the_past_is_refused():
    product = stocked_product()
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [LineInput(product.sku, 1)],
               promised_delivery_date=date.today() - timedelta(days=1))
    assert "promised_delivery_date" in exc.value.field_errors
    _nothing_written()


def test_all_field_errors_are_reported_together():
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [LineInput("", 0)], currency="XXX",
               shipping_address=address_data(city=""))
    assert set(exc.value.field_errors) == {"lines.0.sku", "lines.0.quantity", "currency",
                                           "shipping_address.city"}


def test_catalogue_refusals_are_reported_together_once_the_input_is_valid():
    product = stocked_product(is_active=False)
    with pytest.raises(ApplicationError) as exc:
        _place(CustomerFactory(), [LineInput("NOPE", 1), LineInput(product.sku, 1)])
    assert set(exc.value.field_errors) == {"lines.0.sku", "lines.1.sku"}
    _nothing_written()


def test_insufficient_stock_refuses_with_line_errors_and_writes_nothing():
    product = stocked_product(2)
    with pytest.raises(InsufficientStock) as exc:
        _place(CustomerFactory(), [LineInput(product.sku, 3)])
    assert exc.value.status == 409
    assert "Only 2" in exc.value.field_errors["lines.0.quantity"][0]
    _nothing_written()
    assert StockLevel.objects.get(product=product).reserved == 0


def test_backorder_customer_is_placed_without_holds_and_approval_backorders_it():
    from orders.services import approve_order

    customer = CustomerFactory(accepts_backorder=True)
    product = stocked_product(2)
    order = _place(customer, [LineInput(product.sku, 3)])
    assert order.status == OrderStatus.PLACED
    assert order.hold_expires_at is None
    assert not Reservation.objects.filter(order_id=order.pk).exists()
    placed = order.events.get(to_status="placed")
    assert placed.data["stock_short"][0]["available"] == 2

    order = approve_order(order_id=order.pk, actor=None)
    assert order.status == OrderStatus.BACKORDERED


def test_draft_holds_nothing_and_sends_nothing(approver_calls, mailoutbox):
    product = stocked_product(5)
    order = make_order(lines=[(product, 2)], draft=True)
    assert order.status == OrderStatus.DRAFT
    assert not Reservation.objects.filter(order_id=order.pk).exists()
    assert approver_calls == [] and mailoutbox == []


def test_place_draft_reprices_from_the_catalogue_and_holds_stock(approver_calls):
    product = stocked_product(5, unit_price=Decimal("10.00"))
    draft = make_order(lines=[(product, 2)], draft=True)
    price_in_default_lists(product, Decimal("11.00"))

    order = place_draft(order=draft, payment=PaymentDetails(method="bank_transfer"),
                        actor=None)

    assert order.status == OrderStatus.PLACED
    assert order.payment_method == "bank_transfer"
    assert order.total_net == Decimal("22.00")
    assert Reservation.objects.get(order_id=order.pk).quantity == 2
    assert [c["order_id"] for c in approver_calls] == [order.pk]


def test_place_draft_twice_is_refused():
    draft = make_order(draft=True)
    place_draft(order=draft, payment=None, actor=None)
    with pytest.raises(NotAllowed):
        place_draft(order=draft, payment=None, actor=None)


def test_place_draft_refuses_a_product_deactivated_since():
    product = stocked_product(5)
    draft = make_order(lines=[(product, 1)], draft=True)
    product.is_active = False
    product.save()
    with pytest.raises(ApplicationError) as exc:
        place_draft(order=draft, payment=None, actor=None)
    assert "lines.0.sku" in exc.value.field_errors
    draft.refresh_from_db()
    assert draft.status == OrderStatus.DRAFT


def test_unstocked_product_counts_as_out_of_stock():
    product = ProductFactory()
    with pytest.raises(InsufficientStock):
        _place(CustomerFactory(), [LineInput(product.sku, 1)])
