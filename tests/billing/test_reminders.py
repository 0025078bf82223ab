"""Overdue reminders: one per invoice and level, never twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing import services
from billing.models import Invoice, Reminder
from billing.tasks import send_overdue_reminders
from oms.models import OutboxMessage
from tests.billing.invoicing_support import reserved_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue_invoice():
    """An invoice on 30-day terms issued `days` + 30 days ago."""

    def make(days_overdue: int) -> Invoice:
        order = reserved_order()
        issued = timezone.localdate() - timedelta(days=30 + days_overdue)
        return services.issue_invoice(order_id=order.pk, actor=None, today=issued)

    return make


def _reminder_mails():
    return [m for m in mail.outbox if m.subject.startswith("Reminder")]


def test_an_invoice_one_day_overdue_gets_the_first_reminder_once(
        overdue_invoice, django_capture_on_commit_callbacks):
    invoice = overdue_invoice(1)
    services.render_invoice_pdf(invoice_id=invoice.pk, send_email=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_overdue_reminders() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_overdue_reminders() == 0  # the task ran twice today

    (reminder,) = Reminder.objects.filter(invoice=invoice)
    assert (reminder.level, reminder.days_overdue) == (1, 1)
    (message,) = _reminder_mails()
    assert invoice.number in message.body and "1 days overdue" in message.body
    assert message.to == [invoice.customer.email]
    assert message.attachments[0][0] == f"{invoice.number}.pdf"  # the invoice again


def test_each_level_is_sent_once_as_the_invoice_gets_later(overdue_invoice):
    invoice = overdue_invoice(1)
    today = timezone.localdate()
    sent = [services.send_overdue_reminders(today=today + timedelta(days=offset))
            for offset in range(0, 40)]
    assert sum(sent) == 3
    assert list(Reminder.objects.filter(invoice=invoice).values_list("level", flat=True)) == [
        1, 15, 30]
    assert OutboxMessage.objects.filter(payload__kind="overdue_reminder").count() == 3


def test_a_late_task_sends_only_the_highest_level_reached(overdue_invoice):
    invoice = overdue_invoice(45)
    assert services.send_overdue_reminders() == 1
    assert list(invoice.reminders.values_list("level", flat=True)) == [30]
    assert services.send_overdue_reminders() == 0


def test_invoices_not_yet_overdue_or_settled_get_no_reminder(overdue_invoice):
    overdue_invoice(0)  # due today
    paid = overdue_invoice(20)
    services.record_invoice_payment(
        invoice_id=paid.pk, actor=None,
        data=services.InvoicePaymentInput(amount=paid.total_gross, method="bank_transfer",
                                          received_on=timezone.localdate()))
    assert services.send_overdue_reminders() == 0
    assert not Reminder.objects.exists()


def test_the_beat_task_sends_the_reminders(overdue_invoice, settings):
    overdue_invoice(16)
    result = send_overdue_reminders.apply()
    assert result.result == 1
    assert "billing-overdue-reminders" in settings.CELERY_BEAT_SCHEDULE


def test_reminder_levels_come_from_settings(settings):
    settings.BILLING_REMINDER_LEVELS = [7, 3]
    assert services.reminder_levels() == [3, 7]
    assert services.reminder_level_due(5) == 3
    assert services.reminder_level_due(2) is None
