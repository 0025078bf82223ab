"""The discount code pages: who may see and change codes, the rules on a
code (each a field error with nothing written), a used code's fixed terms,
deactivation, the audit rows, and the admin saving through the same service."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from oms.lib.errors import ApplicationError
from oms.models import AuditEntry
from orders.inputs import DiscountCodeInput
from orders.models import DiscountCode, DiscountRedemption, Order, OrderStatus
from orders.services import save_discount_code
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db


def _form(**changes) -> dict:
    data = {"code": "SPRING10", "description": "Spring campaign", "kind": "percent",
            "value": "10", "currency": "EUR", "minimum_order": "20.00", "valid_from": "",
            "valid_until": "", "max_uses": "100", "max_uses_per_customer": "1",
            "is_active": "on"}
    data.update(changes)
    return data


def _code(**fields) -> DiscountCode:
    values = {"code": "LOYAL", "kind": "amount", "value": Decimal("5.00"), "currency": "EUR"}
    values.update(fields)
    return DiscountCode.objects.create(**values)


def _use(code: DiscountCode, *, status: str = OrderStatus.DRAFT) -> Order:
    order = make_order(draft=True)
    Order.objects.filter(pk=order.pk).update(status=status)
    DiscountRedemption.objects.create(code=code, order=order, customer=order.customer,
                                      amount=Decimal("5.00"))
    return order


def test_sales_sees_the_codes_with_their_uses_but_cannot_change_them(client_for):
    code = _code(max_uses=3)
    _use(code)
    _use(code, status=OrderStatus.CANCELLED)  # gives its use back
    sales = client_for("Sales")
    page = sales.get(reverse("orders:discount_codes")).content.decode()
    assert 'data-code="LOYAL" data-uses="1" data-state="active"' in page
    assert reverse("orders:discount_code_new") not in page
    assert sales.get(reverse("orders:discount_code_new")).status_code == 403
    assert sales.post(reverse("orders:discount_code_edit", args=[code.pk]),
                      _form(code="LOYAL")).status_code == 403
    assert sales.post(reverse("orders:discount_code_deactivate",
                              args=[code.pk])).status_code == 403
    assert DiscountCode.objects.get().is_active


def test_the_pages_need_the_view_permission(client_for):
    assert client_for("Warehouse").get(reverse("orders:discount_codes")).status_code == 403


def test_the_navigation_links_the_codes_next_to_the_price_lists(client_for):
    page = client_for("Sales").get(reverse("orders:price_lists")).content.decode()
    lists, codes = page.index(reverse("orders:price_lists") + '"'), page.index(
        reverse("orders:discount_codes") + '"')
    assert 0 < codes - lists < 400


def test_the_list_filters_by_state_and_searches(client_for):
    now = timezone.now()
    _code(code="OLD", valid_from=now - timedelta(days=9), valid_until=now - timedelta(days=1))
    full = _code(code="FULL", max_uses=1)
    _use(full)
    _code(code="OFF", is_active=False)
    _code(code="LATER", valid_from=now + timedelta(days=3), description="Autumn")
    _code(code="NOW")
    manager = client_for("Manager")

    def shown(**params) -> set[str]:
        response = manager.get(reverse("orders:discount_codes"), params)
        assert response.status_code == 200
        return {code.code for code in response.context["codes"]}

    assert shown(state="active") == {"NOW"}
    assert shown(state="expired") == {"OLD"}
    assert shown(state="exhausted") == {"FULL"}
    assert shown(state="inactive") == {"OFF"}
    assert shown(state="scheduled") == {"LATER"}
    assert shown(q="autu") == {"LATER"}
    assert len(shown()) == 5


def test_a_bad_state_filter_is_a_field_error(client_for):
    response = client_for("Sales").get(reverse("orders:discount_codes"), {"state": "nope"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_list_costs_the_same_queries_for_many_codes(client_for):
    manager = client_for("Manager")
    _use(_code(code="A1"))
    manager.get(reverse("orders:discount_codes"))
    with CaptureQueriesContext(connection) as few:
        manager.get(reverse("orders:discount_codes"))
    for index in range(10):
        _use(_code(code=f"B{index}"))
    with CaptureQueriesContext(connection) as many:
        manager.get(reverse("orders:discount_codes"))
    assert len(many) == len(few)


def test_a_manager_creates_a_code_and_the_audit_records_it(client_for):
    manager = client_for("Manager")
    response = manager.post(reverse("orders:discount_code_new"), _form())
    assert response.status_code == 302, response.content.decode()[:2000]
    code = DiscountCode.objects.get()
    assert (code.code, code.kind, code.value, code.minimum_order, code.max_uses,
            code.max_uses_per_customer) == ("SPRING10", "percent", Decimal("10.00"),
                                            Decimal("20.00"), 100, 1)
    entries = AuditEntry.objects.filter(object_type="orders.discountcode", object_id=code.pk)
    assert {entry.field for entry in entries} >= {"code", "kind", "value", "currency",
                                                  "max_uses"}
    assert {entry.kind for entry in entries} == {AuditEntry.Kind.CREATED}
    assert {entry.actor_id for entry in entries} == {manager.user.pk}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"value": "0"}, "value", "Enter a number above zero."),
    ({"value": "-5"}, "value", "Enter a number above zero."),
    ({"value": "101"}, "value", "A percentage is at most 100."),
    ({"value": "abc"}, "value", "Enter an amount such as 12.50."),
    ({"kind": "amount", "value": "5.005"}, "value", "Use at most 2 decimal places."),
    ({"currency": "XXX"}, "currency", "Select a valid choice."),
    ({"kind": "free"}, "kind", "Select a valid choice."),
    ({"code": "TWO WORDS"}, "code", "A code is one word, without spaces."),
    ({"code": ""}, "code", "This field is required."),
    ({"minimum_order": "-1"}, "minimum_order", "Enter zero or more."),
    ({"max_uses": "0"}, "max_uses", "Enter a whole number of at least 1, or leave it empty."),
    ({"max_uses_per_customer": "x"}, "max_uses_per_customer",
     "Enter a whole number of at least 1, or leave it empty."),
    ({"valid_from": "2027-03-01T00:00", "valid_until": "2027-02-01T00:00"}, "valid_until",
     "The end of validity is not after its start."),
    ({"valid_until": "next week"}, "valid_until", "Use the format YYYY-MM-DD HH:MM."),
])
def test_bad_input_is_a_field_error_and_nothing_is_written(client_for, changes, field,
                                                            message):
    response = client_for("Manager").post(reverse("orders:discount_code_new"), _form(**changes))
    assert response.status_code == 422
    form = response.context["form"]
    assert any(message in error for error in form.errors.get(field, [])), form.errors
    assert not DiscountCode.objects.exists()
    assert not AuditEntry.objects.filter(object_type="orders.discountcode").exists()


def test_a_code_is_unique_without_case(client_for):
    _code(code="LOYAL")
    response = client_for("Manager").post(reverse("orders:discount_code_new"),
                                          _form(code="loyal"))
    assert response.status_code == 422
    assert response.context["form"].errors["code"] == ["Another code is already loyal."]
    assert DiscountCode.objects.count() == 1


def test_an_unused_code_may_change_anything_and_each_change_is_audited(client_for):
    code = _code(code="LOYAL", kind="amount", value=Decimal("5.00"))
    manager = client_for("Manager")
    response = manager.post(reverse("orders:discount_code_edit", args=[code.pk]),
                            _form(code="LOYAL", kind="percent", value="15", max_uses=""))
    assert response.status_code == 302, response.content.decode()[:2000]
    code.refresh_from_db()
    assert (code.kind, code.value) == ("percent", Decimal("15.00"))
    changed = {entry.field: (entry.before, entry.after) for entry in AuditEntry.objects.filter(
        object_type="orders.discountcode", object_id=code.pk, kind=AuditEntry.Kind.CHANGED)}
    assert changed["kind"] == ("amount", "percent")
    assert changed["value"] == ("5.00", "15.00")
    assert "valid_from" not in changed  # left as shown: kept to the second


def test_a_used_code_keeps_its_terms_but_its_end_and_limits_change(client_for):
    code = _code(code="LOYAL", kind="amount", value=Decimal("5.00"), max_uses=10)
    _use(code)
    manager = client_for("Manager")
    page = manager.get(reverse("orders:discount_code_edit", args=[code.pk]))
    assert page.context["form"].fields["value"].disabled
    end = (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    response = manager.post(reverse("orders:discount_code_edit", args=[code.pk]),
                            _form(code="LOYAL", kind="percent", value="50",
                                  valid_until=end, max_uses="20"))
    assert response.status_code == 302, response.content.decode()[:2000]
    code.refresh_from_db()
    assert (code.kind, code.value, code.max_uses) == ("amount", Decimal("5.00"), 20)
    assert code.valid_until is not None


def test_the_service_refuses_to_change_a_used_codes_value():
    code = _code(code="LOYAL", kind="amount", value=Decimal("5.00"))
    _use(code)
    data = DiscountCodeInput.parse({"code": "LOYAL", "kind": "amount", "value": "9.00",
                                    "currency": "EUR"})
    with pytest.raises(ApplicationError) as refused:
        save_discount_code(data, code=code, actor=None)
    assert set(refused.value.field_errors) == {"value"}
    code.refresh_from_db()
    assert code.value == Decimal("5.00")


def test_a_manager_deactivates_a_code_and_it_can_no_longer_be_used(client_for):
    code = _code()
    response = client_for("Manager").post(
        reverse("orders:discount_code_deactivate", args=[code.pk]))
    assert response.status_code == 302
    code.refresh_from_db()
    assert not code.is_active
    entry = AuditEntry.objects.get(object_type="orders.discountcode", object_id=code.pk)
    assert (entry.field, entry.before, entry.after) == ("is_active", True, False)


def test_the_admin_saves_through_the_service_with_its_rules(admin_client):
    code = _code(code="LOYAL", kind="amount", value=Decimal("5.00"))
    _use(code)
    url = reverse("admin:orders_discountcode_change", args=[code.pk])
    data = {"code": "LOYAL", "description": "", "kind": "amount", "value": "7.00",
            "currency": "EUR", "minimum_order": "0.00", "valid_from_0": "2026-01-01",
            "valid_from_1": "00:00:00", "valid_until_0": "", "valid_until_1": "",
            "max_uses": "", "max_uses_per_customer": "1", "is_active": "on",
            "redemptions-TOTAL_FORMS": "0", "redemptions-INITIAL_FORMS": "0"}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "This code has been used" in response.content.decode()
    code.refresh_from_db()
    assert code.value == Decimal("5.00")
    response = admin_client.post(reverse("admin:orders_discountcode_add"), {
        **data, "code": "NEWONE", "redemptions-TOTAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:3000]
    created = DiscountCode.objects.get(code="NEWONE")
    assert AuditEntry.objects.filter(object_type="orders.discountcode", object_id=created.pk,
                                     kind=AuditEntry.Kind.CREATED, field="value").exists()
