"""Customer e-mails: language, both parts, Message-ID from the outbox row,
and safe to run twice."""

from __future__ import annotations

import pytest
from django.utils import translation

from oms.lib import outbox
from oms.models import OutboxMessage
from orders.emails import send_order_email
from orders.models import EventKind
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_received_email_has_text_html_lines_and_outbox_message_id(mailoutbox):
    order = make_order()
    [mail] = mailoutbox
    message = OutboxMessage.objects.get(handler="orders.send_order_email")
    assert mail.extra_headers["Message-ID"] == f"<outbox-{message.pk}@oms.example>"
    assert order.lines.get().sku in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html" and order.number in html
    assert message.status == "done"
    assert order.events.filter(kind=EventKind.EMAIL).get().data["outbox_message_id"] == \
        message.pk


def test_email_is_rendered_in_the_customers_language(mailoutbox):
    customer = CustomerFactory(preferred_language="fr")
    make_order(customer=customer)  # 2 x 10.00 + 20 % tax
    # Amounts are formatted for the customer's locale: "24,00 €", not "€24.00".
    assert "24,00" in mailoutbox[0].body and "€24.00" not in mailoutbox[0].body
    assert translation.get_language() == "en"


def test_running_the_handler_again_sends_nothing_more(mailoutbox):
    order = make_order()
    message = OutboxMessage.objects.get(handler="orders.send_order_email")
    send_order_email({**message.payload, "outbox_message_id": message.pk})
    assert len(mailoutbox) == 1
    assert order.events.filter(kind=EventKind.EMAIL).count() == 1


def test_handlers_are_registered_at_start_up():
    assert {"orders.send_order_email", "orders.notify_order_held"} <= set(
        outbox.registered_handlers())
