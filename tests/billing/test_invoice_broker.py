"""With the broker down when an order ships, the invoice is still issued and
its e-mail sent exactly once after the broker returns (real Redis, a real
Celery worker in a thread; the helpers of tests/oms/test_outbox.py)."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.db import transaction

from billing.models import Invoice
from oms.lib import outbox
from oms.models import OutboxMessage
from oms.tasks import relay_outbox
from orders import services as order_services
from tests.billing.invoicing_support import reserved_order
from tests.oms.test_outbox import (  # noqa: F401  real_broker is a fixture
    UNREACHABLE_BROKER,
    celery_broker,
    real_broker,
    running_worker,
    wait_for,
)


def _invoice_mails() -> list:
    return [m for m in mail.outbox if m.subject.startswith("Your invoice")]


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_shipment_the_invoice_mail_goes_out_once_it_is_back(
        real_broker):  # noqa: F811
    # Its earlier e-mails (received, confirmed) wait in the queue for the worker.
    order = reserved_order()
    order_services.start_picking(order_id=order.pk, actor=None)
    order_services.mark_packed(order_id=order.pk, actor=None)

    with celery_broker(UNREACHABLE_BROKER):
        with transaction.atomic():
            order_services.mark_shipped(order_id=order.pk, actor=None)
        assert outbox.relay() == 0  # still down: nothing goes anywhere
    shipped_row = OutboxMessage.objects.get(handler="billing.invoice_shipped_order")
    assert shipped_row.status == OutboxMessage.Status.PENDING
    assert not Invoice.objects.exists()
    assert _invoice_mails() == []

    with running_worker():
        relay_outbox.delay()  # what beat does every few seconds
        assert wait_for(lambda: len(_invoice_mails()) == 1, timeout=60)
        # Late duplicates of every row change nothing.
        for message_id in OutboxMessage.objects.values_list("pk", flat=True):
            outbox.dispatch(message_id)
        outbox.relay()
        time.sleep(2)

    (message,) = _invoice_mails()
    invoice = Invoice.objects.get(order=order)
    assert message.attachments[0][0] == f"{invoice.number}.pdf"
    order.refresh_from_db()
    assert order.status == "invoiced"
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {
        OutboxMessage.Status.DONE}
