"""An exchange for other products (another size, colour or SKU): the
replacement is priced at the customer's price list and reserved at once; a
dearer exchange is invoiced for the net difference when the replacement
ships, a cheaper one is credited on the original invoice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import CreditNote, CustomerCredit, Invoice
from billing.services import returns as settlement
from inventory.models import Reservation, Warehouse
from oms.lib.errors import ApplicationError
from orders.models import Order, OrderStatus, ReturnStatus, Settlement
from tests.billing.test_returns import _inspected, card_order  # noqa: F401 - the fixture
from tests.factories.fulfillment import ship_reserved
from tests.factories.orders import stocked_product

pytestmark = pytest.mark.django_db

D = Decimal


def _exchange(ret, *rows, actor=None):
    return settlement.settle_return(return_id=ret.pk, actor=actor, data=settlement
                                    .ReturnSettlementInput(Settlement.EXCHANGE,
                                                           exchange=tuple(rows)))


def test_a_dearer_exchange_is_invoiced_for_the_difference_when_it_ships(
        card_order, django_capture_on_commit_callbacks):  # noqa: F811
    # 1 of the 2 units at 10.00 + 20 % comes back: worth 10.00 net.
    ret = _inspected(card_order)
    bigger = stocked_product(20, sku="SHIRT-XL", unit_price=D("25.00"), tax_rate=D("20.00"))
    ret = _exchange(ret, ("SHIRT-XL", 1))
    assert ret.status == ReturnStatus.CLOSED and ret.settlement == Settlement.EXCHANGE
    replacement = ret.exchange_order
    assert replacement.status == OrderStatus.RESERVED
    line = replacement.lines.get()
    assert (line.sku, line.quantity, line.unit_price) == ("SHIRT-XL", 1, D("25.00"))
    assert (replacement.discount_total, replacement.total_net, replacement.total_tax,
            replacement.total_gross) == (D("10.00"), D("15.00"), D("3.00"), D("18.00"))
    assert Reservation.objects.get(order_id=replacement.pk).kind == Reservation.Kind.FIRM
    assert not CreditNote.objects.exists()
    assert bigger.pk == line.product_id

    with django_capture_on_commit_callbacks(execute=True):
        ship_reserved(replacement, Warehouse.objects.get(code="MAIN"),
                      tracking_number="1ZEXCHANGE01")
    invoice = Invoice.objects.get(order=replacement)
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (
        D("15.00"), D("3.00"), D("18.00"))
    assert invoice.lines.get().discount == D("10.00")


def test_a_cheaper_exchange_is_free_and_the_rest_is_credited(card_order):  # noqa: F811
    ret = _inspected(card_order)
    stocked_product(20, sku="SHIRT-S", unit_price=D("4.00"), tax_rate=D("20.00"))
    ret = _exchange(ret, ("SHIRT-S", 1))
    replacement = ret.exchange_order
    assert replacement.status == OrderStatus.RESERVED
    assert replacement.total_gross == D("0.00")
    note = CreditNote.objects.get(invoice__order=card_order)
    assert (note.total_net, note.total_tax, note.total_gross) == (D("6.00"), D("1.20"),
                                                                  D("7.20"))
    assert ret.credit_note_number == note.number and ret.settled_amount == D("7.20")
    # The original invoice was paid: the difference stays with the customer.
    assert sum(CustomerCredit.objects.filter(customer=card_order.customer)
               .values_list("amount", flat=True)) == D("7.20")
    event = card_order.events.filter(kind="return").latest("pk")
    assert event.data["exchange_order_number"] == replacement.number
    assert event.data["credit_note_number"] == note.number


def test_an_exchange_of_the_same_value_settles_nothing_else(card_order):  # noqa: F811
    ret = _inspected(card_order)
    stocked_product(20, sku="SHIRT-BLUE", unit_price=D("10.00"), tax_rate=D("20.00"))
    ret = _exchange(ret, ("SHIRT-BLUE", 1))
    assert ret.exchange_order.total_gross == D("0.00")
    assert not CreditNote.objects.exists()


def test_bad_exchange_input_is_a_field_error_and_writes_nothing(card_order):  # noqa: F811
    ret = _inspected(card_order)
    orders_before = Order.objects.count()
    with pytest.raises(ApplicationError) as unknown:
        _exchange(ret, ("NOPE", 1))
    assert unknown.value.field_errors == {"exchange.0.sku": ["Unknown SKU NOPE."]}
    with pytest.raises(ApplicationError) as bad:
        settlement.ReturnSettlementInput.parse(settlement="exchange", skus=["", "X"],
                                               quantities=["2", "0"])
    assert set(bad.value.field_errors) == {"exchange.0.sku", "exchange.1.quantity"}
    with pytest.raises(ApplicationError) as not_exchange:
        settlement.ReturnSettlementInput.parse(settlement="refund", skus=["X"],
                                               quantities=["1"])
    assert "settlement" in not_exchange.value.field_errors
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.INSPECTED
    assert Order.objects.count() == orders_before and not CreditNote.objects.exists()


def test_the_return_page_settles_an_exchange_for_another_product(
        card_order, client_for):  # noqa: F811
    ret = _inspected(card_order)
    stocked_product(20, sku="SHIRT-S", unit_price=D("4.00"), tax_rate=D("20.00"))
    client = client_for("Accounting")
    page = client.get(reverse("orders:return_detail", args=[ret.pk])).content.decode()
    assert 'name="exchange_sku"' in page
    response = client.post(reverse("billing:settle_return", args=[ret.pk]), {
        "settlement": "exchange", "exchange_sku": ["SHIRT-S", ""],
        "exchange_quantity": ["1", ""]})
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.exchange_order.lines.get().sku == "SHIRT-S"
    assert CreditNote.objects.get(invoice__order=card_order).total_gross == D("7.20")
