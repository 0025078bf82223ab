"""The outbox admin: browsable, read-only, and "retry now" goes through the outbox."""

import pytest
from django.urls import reverse

from oms.models import OutboxMessage


@pytest.fixture
def failed_message(db):
    return OutboxMessage.objects.create(handler="no.such.handler", payload={"order": 1},
                                        status=OutboxMessage.Status.FAILED, attempts=8,
                                        last_error="LookupError: no outbox handler")


def test_outbox_changelist_filters_and_searches(client_for, failed_message):
    client = client_for("Admin")
    url = reverse("admin:oms_outboxmessage_changelist")
    response = client.get(url, {"status__exact": "failed", "q": "no.such"})
    assert response.status_code == 200
    assert b"no.such.handler" in response.content
    assert client.get(url, {"status__exact": "done"}).context["cl"].result_count == 0
    detail = client.get(reverse("admin:oms_outboxmessage_change", args=[failed_message.pk]))
    assert detail.status_code == 200
    assert b'name="status"' not in detail.content  # read-only: no editable status


def test_retry_now_action_resets_failed_rows_to_pending(client_for, failed_message):
    client = client_for("Admin")
    response = client.post(reverse("admin:oms_outboxmessage_changelist"),
                           {"action": "retry_now", "_selected_action": [failed_message.pk]},
                           follow=True)
    assert response.status_code == 200
    assert b"1 message rescheduled." in response.content
    failed_message.refresh_from_db()
    # The handler does not exist, so the after-commit run would fail again; in
    # this (non-transactional) test the commit never happens: the row waits.
    assert failed_message.status == OutboxMessage.Status.PENDING
    assert failed_message.attempts == 0


def test_outbox_admin_is_closed_to_back_office_roles(client_for):
    client = client_for("Manager")
    response = client.get(reverse("admin:oms_outboxmessage_changelist"))
    assert response.status_code == 302


def test_lockouts_are_visible_in_the_admin(client, client_for):
    for _attempt in range(5):
        client.post(reverse("login"), {"username": "sam", "password": "wrong"})
    admin = client_for("Admin")
    response = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code == 200
    assert b"sam" in response.content
