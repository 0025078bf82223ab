"""Staff notices: rules matched in the worker after a placement, the bell,
marking read, the e-mail digest (claimed once), the settings page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import CustomerGroup
from oms.lib import notices
from oms.models import DigestFrequency, Notice, OutboxMessage, UserPreference
from orders.models import Order
from orders.notices import (
    MATCH_HANDLER,
    NOTICE_KIND,
    NoticeRule,
    NoticeRuleInput,
    match_rules,
    save_notice_rule,
)
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db


def _order(*, channel="web", total="100.00", currency="EUR", customer=None) -> Order:
    order = make_order(channel=channel, currency=currency, customer=customer)
    Order.objects.filter(pk=order.pk).update(total_net=Decimal(total), total_tax=0,
                                             total_gross=Decimal(total))
    return order


def _rule(user=None, role=None, **fields) -> NoticeRule:
    return NoticeRule.objects.create(user=user, role=role, **fields)


def _noticed(order) -> set[str]:
    return set(Notice.objects.filter(subject=f"order:{order.pk}")
               .values_list("user__username", flat=True))


@pytest.mark.parametrize("channels, channel, told", [
    ([], "phone", True), (["web"], "web", True), (["web", "email"], "phone", False)])
def test_a_rule_matches_its_channels(make_user, channels, channel, told):
    user = make_user("Sales")
    _rule(user, channels=channels)
    order = _order(channel=channel)
    match_rules(order_id=order.pk)
    assert _noticed(order) == ({"sales"} if told else set())


@pytest.mark.parametrize("total, told", [("99.99", False), ("100.00", True), ("100.01", True)])
def test_a_minimum_total_is_inclusive(make_user, total, told):
    _rule(make_user("Sales"), min_total=Decimal("100.00"), currency="EUR")
    order = _order(total=total)
    match_rules(order_id=order.pk)
    assert bool(_noticed(order)) is told


def test_an_amount_rule_matches_only_orders_in_its_currency(make_user):
    _rule(make_user("Sales"), min_total=Decimal("1.00"), currency="USD")
    order = _order(total="5000.00", currency="EUR")
    match_rules(order_id=order.pk)
    assert not _noticed(order)


def test_a_rule_may_name_a_customer_group(make_user):
    resellers = CustomerGroup.objects.create(name="Resellers")
    _rule(make_user("Sales"), customer_group=resellers)
    other = _order()
    reseller = _order(customer=CustomerFactory(group=resellers))
    match_rules(order_id=other.pk)
    match_rules(order_id=reseller.pk)
    assert not _noticed(other) and _noticed(reseller) == {"sales"}


def test_a_role_rule_reaches_active_members_once_each(make_user):
    managers = Group.objects.get(name="Manager")
    first, second = make_user("Manager", username="m1"), make_user("Manager", username="m2")
    make_user("Manager", username="gone", is_active=False)
    make_user("Sales", username="other")
    _rule(role=managers)
    _rule(first, channels=["web"])  # a second rule of the same person: still one notice
    order = _order()
    assert match_rules(order_id=order.pk) == 2
    assert match_rules(order_id=order.pk) == 0  # the handler run again adds nothing
    assert _noticed(order) == {first.username, second.username}


def test_placing_an_order_notifies_through_one_outbox_row(make_user,
                                                          django_capture_on_commit_callbacks):
    _rule(make_user("Sales"), channels=["phone"])
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(channel="phone")
    assert OutboxMessage.objects.filter(handler=MATCH_HANDLER).count() == 1
    assert _noticed(order) == {"sales"}
    notice = Notice.objects.get()
    assert notice.kind == NOTICE_KIND
    described = notices.describe(notice)
    assert order.number in described.text and "Phone" in described.text
    assert described.url == reverse("orders:detail", args=[order.pk])


def test_the_placement_writes_the_event_in_the_e_mails_insert(make_user):
    _rule(make_user("Sales"))
    with CaptureQueriesContext(connection) as ctx:
        make_order()
    inserts = [q["sql"] for q in ctx.captured_queries
               if q["sql"].startswith('INSERT INTO "oms_outboxmessage"')
               or q["sql"].lstrip().startswith("INSERT INTO oms_outboxmessage")]
    assert len(inserts) == 1
    assert set(OutboxMessage.objects.values_list("handler", flat=True)) == {
        "orders.send_order_email", MATCH_HANDLER}


# --- the bell and the notices page ------------------------------------------

def _notice(user, number: int, **fields) -> Notice:
    return Notice.objects.create(user=user, kind=NOTICE_KIND, subject=f"order:{number}",
                                 data={"order_id": number, "number": f"SO-{number}",
                                       "channel": "web", "total": "10.00",
                                       "currency": "EUR", "customer": "Acme"}, **fields)


def test_the_bell_counts_unread_notices_in_one_query(client_for):
    client = client_for("Sales")
    for number in range(3):
        _notice(client.user, number)
    _notice(client.user, 9, read_at=timezone.now())
    with CaptureQueriesContext(connection) as ctx:
        assert notices.unread_count(client.user) == 3
    assert len(ctx.captured_queries) == 1
    page = client.get(reverse("dashboard")).content.decode()
    assert '<span class="bell-count">3</span>' in page


def test_the_bell_caps_its_number(client_for, monkeypatch):
    monkeypatch.setattr(notices, "BELL_CAP", 2)
    client = client_for("Sales")
    for number in range(4):
        _notice(client.user, number)
    page = client.get(reverse("dashboard")).content.decode()
    assert '<span class="bell-count">2+</span>' in page


def test_mark_one_read_and_all_read(client_for, make_user):
    client = client_for("Sales")
    first, second = _notice(client.user, 1), _notice(client.user, 2)
    someone_elses = _notice(make_user("Manager"), 3)
    assert client.post(reverse("notice_read", args=[someone_elses.pk])).status_code == 302
    assert client.post(reverse("notice_read", args=[first.pk])).status_code == 302
    assert list(Notice.objects.filter(read_at__isnull=False)) == [first]
    client.post(reverse("notice_read_all"))
    assert set(Notice.objects.filter(read_at__isnull=False)) == {first, second}
    page = client.get(reverse("notices"))
    assert page.status_code == 200 and "SO-2" in page.content.decode()


def test_the_bell_dropdown_is_a_partial(client_for):
    client = client_for("Sales")
    _notice(client.user, 5)
    response = client.get(reverse("notices"), HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="bell-latest")
    body = response.content.decode()
    assert response.status_code == 200 and "SO-5" in body and "<html" not in body


def test_opening_a_notice_marks_it_read_and_goes_to_the_order(client_for):
    client = client_for("Sales")
    notice = _notice(client.user, 77)
    response = client.post(reverse("notice_read", args=[notice.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:detail", args=[77])


# --- the digest --------------------------------------------------------------

def _wants(user, frequency):
    UserPreference.objects.update_or_create(user=user, defaults={"notice_digest": frequency})


def test_the_digest_is_sent_once_even_if_the_task_runs_twice(
        make_user, mailoutbox, django_capture_on_commit_callbacks):
    user = make_user("Sales")
    _wants(user, DigestFrequency.HOURLY)
    _notice(user, 1), _notice(user, 2), _notice(user, 3, read_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.claim_digests() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.claim_digests() == 0
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [user.email] and mail.subject == "2 new notices"
    assert "SO-1" in mail.body and "SO-2" in mail.body and "SO-3" not in mail.body


def test_no_digest_when_nothing_is_new(make_user, mailoutbox,
                                       django_capture_on_commit_callbacks):
    user = make_user("Sales")
    _wants(user, DigestFrequency.HOURLY)
    _notice(user, 1, read_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.claim_digests() == 0
    assert not mailoutbox and not OutboxMessage.objects.exists()


def test_users_who_want_no_e_mail_get_none(make_user, mailoutbox):
    user = make_user("Sales")
    _wants(user, DigestFrequency.NEVER)
    _notice(user, 1)
    make_user("Manager")  # no preference at all
    assert notices.claim_digests() == 0


def test_a_daily_digest_waits_a_day(make_user, mailoutbox,
                                    django_capture_on_commit_callbacks):
    user = make_user("Sales")
    _wants(user, DigestFrequency.DAILY)
    now = timezone.now()
    _notice(user, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.claim_digests(now=now) == 1
    _notice(user, 2)
    assert notices.claim_digests(now=now + timedelta(hours=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.claim_digests(now=now + timedelta(days=1)) == 1
    assert [mail.subject for mail in mailoutbox] == ["1 new notice", "1 new notice"]


def test_a_notice_read_after_the_claim_is_left_out(make_user, mailoutbox):
    user = make_user("Sales")
    _wants(user, DigestFrequency.HOURLY)
    notice = _notice(user, 1)
    notices.claim_digests()  # not committed here: the e-mail row waits
    Notice.objects.filter(pk=notice.pk).update(read_at=timezone.now())
    message = OutboxMessage.objects.get(handler=notices.DIGEST_HANDLER)
    notices.send_notice_digest({**message.payload, "outbox_message_id": message.pk})
    assert not mailoutbox


# --- the settings page -------------------------------------------------------

def test_a_user_adds_and_removes_their_own_rule(client_for):
    client = client_for("Sales")
    url = reverse("orders:notice_rules")
    response = client.post(url, {"channels": ["web", "phone"], "min_total": "250",
                                 "currency": "EUR"})
    assert response.status_code == 302
    rule = NoticeRule.objects.get()
    assert (rule.user, rule.channels, rule.min_total, rule.currency) == (
        client.user, ["phone", "web"], Decimal("250"), "EUR")
    page = client.get(url).content.decode()
    assert "Phone, Web shop" in page
    client.post(reverse("orders:notice_rule_delete", args=[rule.pk]))
    assert not NoticeRule.objects.exists()


@pytest.mark.parametrize("data, field", [
    ({"min_total": "12.345", "currency": "EUR"}, "min_total"),
    ({"min_total": "-1", "currency": "EUR"}, "min_total"),
    ({"min_total": "100"}, "currency"),
    ({"currency": "EUR"}, "min_total"),
    ({"channels": ["fax"]}, "channels"),
    ({"currency": "XXX", "min_total": "1"}, "currency"),
    ({"customer_group": "999999"}, "customer_group"),
])
def test_a_bad_rule_is_a_field_error_and_saves_nothing(client_for, data, field):
    client = client_for("Sales")
    response = client.post(reverse("orders:notice_rules"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not NoticeRule.objects.exists()


def test_a_user_may_not_remove_someone_elses_rule(client_for, make_user):
    rule = _rule(make_user("Manager"))
    client = client_for("Sales")
    client.post(reverse("orders:notice_rule_delete", args=[rule.pk]))
    assert NoticeRule.objects.filter(pk=rule.pk).exists()


def test_only_admins_make_rules_for_a_role(make_user):
    from oms.lib.errors import Forbidden

    sales = make_user("Sales")
    managers = Group.objects.get(name="Manager")
    with pytest.raises(Forbidden):
        save_notice_rule(NoticeRuleInput.parse({"role": managers.pk}), actor=sales)
    save_notice_rule(NoticeRuleInput.parse({"role": managers.pk}), actor=make_user("Admin"))
    assert NoticeRule.objects.filter(role=managers).count() == 1


def test_the_digest_setting_is_saved(client_for):
    client = client_for("Sales")
    response = client.post(reverse("orders:notice_digest"), {"notice_digest": "daily"})
    assert response.status_code == 302
    assert UserPreference.objects.get(user=client.user).notice_digest == "daily"
    assert client.post(reverse("orders:notice_digest"),
                       {"notice_digest": "weekly"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_two_digest_runs_at_once_queue_one_e_mail(make_user, monkeypatch):
    import threading

    from oms.lib import outbox

    monkeypatch.setattr(outbox, "_send_after_commit", lambda ids: None)  # the rows suffice
    user = make_user("Sales")
    _wants(user, DigestFrequency.HOURLY)
    for number in range(5):
        _notice(user, number)
    barrier, queued, errors = threading.Barrier(2), [], []

    def run() -> None:
        try:
            barrier.wait()
            queued.append(notices.claim_digests())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and sorted(queued) == [0, 1]
    message = OutboxMessage.objects.get(handler=notices.DIGEST_HANDLER)
    assert len(message.payload["notice_ids"]) == 5
