"""Placing a template twice at the same moment with the same confirmation
(a double click on two connections) makes one order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oms.lib.submissions import AlreadySubmitted, new_submission_key
from orders.inputs import TemplateName
from orders.models import Order
from orders.services import place_order_template, save_template_from_order
from tests.billing.invoicing_support import terms_customer
from tests.factories.customers import AddressFactory
from tests.factories.orders import make_order, stocked_product
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_placements_with_one_key_make_one_order(make_user):
    customer = terms_customer()
    AddressFactory(customer=customer)
    product = stocked_product(sku="BOLT-1", unit_price=Decimal("2.00"))
    first = make_order(customer=customer, lines=[(product, 3)])
    template = save_template_from_order(order_id=first.pk, actor=None,
                                        data=TemplateName.parse({"name": "Weekly"}))
    actor = make_user("Sales")
    key = new_submission_key()
    results = race(2, lambda _index: place_order_template(
        template_id=template.pk, actor=actor, submission_key=key))
    placed = [result for result in results if isinstance(result, Order)]
    refused = [result for result in results if isinstance(result, AlreadySubmitted)]
    assert len(placed) == 1 and len(refused) == 1, results
    assert refused[0].result_id == placed[0].pk
    assert Order.objects.exclude(pk=first.pk).count() == 1
