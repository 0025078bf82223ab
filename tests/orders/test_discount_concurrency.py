"""Two placements racing for a code's last use, on real connections: one
order gets the discount, the other a field error on the code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oms.lib.errors import ApplicationError
from orders.models import DiscountCode, DiscountRedemption, Order
from orders.services import PlaceOrder, place_order
from tests.factories.customers import CustomerFactory, address_data
from tests.factories.orders import stocked_product
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)




def _placer(product, customers):
    def place(index: int) -> Order:
        return place_order(PlaceOrder.parse({
            "customer": customers[index], "channel": "web", "currency": "EUR",
            "lines": [{"sku": product.sku, "quantity": 1}], "discount_code": "LAST",
            "shipping_address": address_data()}), actor=None)
    return place


@pytest.mark.parametrize("per_customer", [False, True])
def test_two_orders_racing_for_the_last_use_one_wins(per_customer):
    product = stocked_product(100, unit_price=Decimal("20.00"))
    DiscountCode.objects.create(code="LAST", kind="amount", value=Decimal("5.00"),
                                currency="EUR", max_uses=None if per_customer else 3,
                                max_uses_per_customer=1 if per_customer else None)
    # Two uses already gone (total limit) / none (the same customer twice).
    customer = CustomerFactory()
    customers = [customer, customer] if per_customer else [CustomerFactory(), CustomerFactory()]
    if not per_customer:
        warm = _placer(product, [CustomerFactory(), CustomerFactory()])
        warm(0), warm(1)

    results = race(2, _placer(product, customers))

    won = [r for r in results if isinstance(r, Order)]
    lost = [r for r in results if isinstance(r, ApplicationError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].field_errors == {"discount_code": [
        "This customer has already used this code." if per_customer
        else "This code has been used up."]}
    assert won[0].code_discount == Decimal("5.00")
    assert DiscountRedemption.objects.count() == (1 if per_customer else 3)
    assert Order.objects.count() == (1 if per_customer else 3)
