"""Two first answers of the same order at once: they queue on the order row,
one row is written and the later one changes it."""

from __future__ import annotations

import pytest

from fulfillment import services as fulfillment_services
from orders.feedback_models import OrderFeedback
from orders.inputs import FeedbackInput
from orders.services import submit_feedback
from tests.factories.fulfillment import shipped_order
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_first_answers_at_once_leave_one_row():
    order, shipment = shipped_order(tracking_number="1ZRATERACE")
    fulfillment_services.confirm_delivery(shipment_id=shipment.pk, actor=None)
    results = run_together(*[
        lambda stars=stars: submit_feedback(order_id=order.pk,
                                            data=FeedbackInput.parse({"rating": stars}),
                                            language="en", actor=None)
        for stars in (1, 5)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert OrderFeedback.objects.filter(order=order).count() == 1
    assert OrderFeedback.objects.get(order=order).rating in (1, 5)
