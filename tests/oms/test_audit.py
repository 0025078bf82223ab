"""The audit trail: each change made through a service or the admin is one
entry per field with its value before and after and the actor, written in
the change's own transaction; the /audit/ page filters them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import CustomerGroup
from customers.services import update_address, update_customer
from inventory.costs import set_product_cost
from inventory.models import VatRate
from oms.lib import audit
from oms.lib.errors import ApplicationError, Forbidden
from oms.models import AuditEntry
from orders.inputs import PriceInput, PriceListInput
from orders.models import HoldReason, OrderStatus
from orders.services import cancel_order, hold_order
from orders.services.price_lists import remove_price, save_price_list, set_price
from tests.factories.customers import AddressFactory, CustomerFactory
from tests.factories.inventory import ProductFactory
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db

Kind = AuditEntry.Kind


def _entries(obj) -> list[tuple]:
    return list(AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk)
                .order_by("id").values_list("kind", "field", "before", "after", "actor_id"))


def test_a_credit_limit_change_is_recorded_with_before_after_and_actor(make_user):
    accounting = make_user("Accounting")
    customer = CustomerFactory(credit_limit=Decimal("100.00"), standing="new")
    update_customer(customer=customer, actor=accounting, credit_limit="2500.50",
                    standing="trusted", name=customer.name)
    assert _entries(customer) == [
        (Kind.CHANGED, "credit_limit", "100.00", "2500.50", accounting.pk),
        (Kind.CHANGED, "standing", "new", "trusted", accounting.pk)]
    entry = AuditEntry.objects.get(field="standing")
    assert entry.object_label == customer.name


def test_a_refused_change_writes_no_entry(make_user):
    customer = CustomerFactory(credit_limit=Decimal("100.00"))
    with pytest.raises(Forbidden):
        update_customer(customer=customer, actor=make_user("Sales"), name="Renamed",
                        credit_limit="5000")
    assert not AuditEntry.objects.exists()


def test_a_rolled_back_service_writes_no_entry(make_user):
    CustomerFactory(email="taken@example.com")
    customer = CustomerFactory(name="Before")
    with pytest.raises(ApplicationError):
        # The name is written first; the taken e-mail rolls the whole change back.
        update_customer(customer=customer, actor=make_user("Sales"), name="After",
                        email="TAKEN@example.com")
    assert not AuditEntry.objects.exists()


def test_an_address_change_is_filed_under_its_customer(make_user):
    address = AddressFactory(city="Ghent")
    sales = make_user("Sales")
    update_address(address=address, actor=sales, city="Bruges")
    assert _entries(address.customer) == [
        (Kind.CHANGED, "customers.address.city", "Ghent", "Bruges", sales.pk)]
    entry = AuditEntry.objects.get()
    assert str(audit.field_label(entry.object_type, entry.field)) == "city"


def test_hold_and_cancel_decisions_are_recorded_on_the_order(make_user):
    order = make_order()
    manager = make_user("Manager")
    hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL, actor=manager)
    cancel_order(order_id=order.pk, actor=manager, reason="customer called")
    statuses = [(before, after) for kind, field, before, after, actor in _entries(order)
                if field == "status" and actor == manager.pk and kind == Kind.STATUS]
    assert statuses == [(OrderStatus.PLACED, OrderStatus.ON_HOLD),
                        (OrderStatus.ON_HOLD, OrderStatus.CANCELLED)]
    assert ("hold_reason", "", HoldReason.MANUAL) in [
        (field, before, after) for _kind, field, before, after, _actor in _entries(order)]


def test_placement_and_the_systems_own_verdicts_write_no_audit_entry():
    order = make_order()
    hold_order(order_id=order.pk, reason_code=HoldReason.MANUAL, actor=None)
    assert not AuditEntry.objects.exists()


def test_price_list_validity_and_prices_are_recorded(make_user):
    manager = make_user("Manager")
    ProductFactory(sku="AUD-1")
    group = CustomerGroup.objects.create(name="Resellers")
    header = {"name": "Spring", "currency": "EUR", "customer_group": group.pk}
    price_list = save_price_list(PriceListInput.parse(header), actor=manager)
    assert ("customer_group", None, {"id": group.pk, "label": "Resellers"}) in [
        (field, before, after) for _k, field, before, after, _a in _entries(price_list)]
    AuditEntry.objects.all().delete()
    save_price_list(PriceListInput.parse({**header, "valid_until": "2031-05-31"}),
                    price_list=price_list, actor=manager)
    entry = set_price(price_list=price_list, actor=manager,
                      data=PriceInput.parse({"sku": "AUD-1", "unit_price": "9.50"}))
    set_price(price_list=price_list, actor=manager,
              data=PriceInput.parse({"sku": "AUD-1", "unit_price": "8.75"}))
    remove_price(entry=entry, actor=manager)
    assert [(kind, field, before, after) for kind, field, before, after, _ in
            _entries(price_list)] == [
        (Kind.CHANGED, "valid_until", None, "2031-05-31"),
        (Kind.CREATED, "orders.pricelistentry.unit_price", None, "9.50"),
        (Kind.CHANGED, "orders.pricelistentry.unit_price", "9.50", "8.75"),
        (Kind.DELETED, "orders.pricelistentry.unit_price", "8.75", None)]
    assert AuditEntry.objects.filter(object_label="Spring · AUD-1 ≥ 1").count() == 3


def test_a_product_cost_is_recorded_when_set_changed_and_removed(make_user):
    accounting = make_user("Accounting")
    product = ProductFactory(sku="COST-1")
    set_product_cost(product_id=product.pk, data={"currency": "EUR", "cost": "4.00"},
                     actor=accounting)
    set_product_cost(product_id=product.pk, data={"currency": "EUR", "cost": "4.00"},
                     actor=accounting)  # unchanged: no entry
    set_product_cost(product_id=product.pk, data={"currency": "EUR", "cost": "4.20"},
                     actor=accounting)
    set_product_cost(product_id=product.pk, data={"currency": "EUR", "cost": None},
                     actor=accounting)
    assert [(kind, before, after) for kind, _field, before, after, _ in _entries(product)] == [
        (Kind.CREATED, None, "4.00"), (Kind.CHANGED, "4.00", "4.20"),
        (Kind.DELETED, "4.20", None)]
    assert set(AuditEntry.objects.values_list("object_label", "actor_id")) == {
        ("COST-1 · EUR", accounting.pk)}


def test_a_vat_rate_changed_in_the_admin_is_recorded(client_for):
    client = client_for("Admin")
    rate = VatRate.objects.filter(country="BE").order_by("pk").first() or VatRate.objects.create(
        country="BE", category="standard", rate=Decimal("21.00"))
    response = client.post(reverse("admin:inventory_vatrate_change", args=[rate.pk]),
                           {"country": rate.country, "category": rate.category, "rate": "22.50"})
    assert response.status_code == 302
    assert _entries(rate) == [(Kind.CHANGED, "rate", str(rate.rate), "22.50", client.user.pk)]


# --- the page ----------------------------------------------------------------

@pytest.fixture
def changes(make_user):
    accounting = make_user("Accounting", username="alice")
    sales = make_user("Sales", username="bob")
    first = CustomerFactory(name="Acme Ltd", credit_limit=Decimal("10.00"))
    second = CustomerFactory(name="Globex", credit_limit=Decimal("10.00"))
    update_customer(customer=first, actor=accounting, credit_limit="20")
    update_customer(customer=second, actor=accounting, credit_limit="30")
    update_customer(customer=second, actor=sales, phone="+32 2 555 0101")
    return {"alice": accounting, "bob": sales, "acme": first, "globex": second}


def _listed(response) -> list[tuple[str, str]]:
    return [(row.entry.object_label, row.entry.field) for row in response.context["rows"]]


def test_only_managers_and_admins_open_the_audit_page(client_for, changes):
    assert client_for("Sales").get(reverse("audit")).status_code == 403
    assert client_for("Accounting").get(reverse("audit")).status_code == 403
    response = client_for("Manager").get(reverse("audit"))
    assert response.status_code == 200
    assert _listed(response) == [("Globex", "phone"), ("Globex", "credit_limit"),
                                 ("Acme Ltd", "credit_limit")]
    page = response.content.decode()
    assert "10.00" in page and "20.00" in page
    assert reverse("customers:detail", args=[changes["acme"].pk]) in page


@pytest.mark.parametrize("params, expected", [
    (lambda c: {"actor": c["bob"].pk}, [("Globex", "phone")]),
    (lambda c: {"q": "acme"}, [("Acme Ltd", "credit_limit")]),
    (lambda c: {"object_type": "customers.customer", "object_id": c["acme"].pk},
     [("Acme Ltd", "credit_limit")]),
    (lambda c: {"kind": "deleted"}, []),
    (lambda c: {"date_from": timezone.localdate().isoformat(),
                "date_to": timezone.localdate().isoformat()},
     [("Globex", "phone"), ("Globex", "credit_limit"), ("Acme Ltd", "credit_limit")]),
    (lambda c: {"date_to": (timezone.localdate() - timedelta(days=1)).isoformat()}, []),
])
def test_the_page_filters(client_for, changes, params, expected):
    response = client_for("Manager").get(reverse("audit"), params(changes))
    assert response.status_code == 200
    assert _listed(response) == expected


@pytest.mark.parametrize("params, field", [
    ({"actor": "999999"}, "actor"),
    ({"actor": "bob"}, "actor"),
    ({"date_from": "2026-13-45"}, "date_from"),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to"),
    ({"object_id": "x1"}, "object_id"),
    ({"kind": "exploded"}, "kind"),
    ({"object_type": "auth.user"}, "object_type"),
    ({"q": "a" * 101}, "q"),
    ({"q": "bad\x00"}, "q"),
])
def test_a_bad_filter_is_a_clear_field_error(client_for, changes, params, field):
    response = client_for("Manager").get(reverse("audit"), params)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert response.context["rows"] == []
    assert "correct them" in response.content.decode()


def test_the_page_costs_the_same_queries_however_many_rows(client_for, make_user):
    client = client_for("Manager")
    people = [make_user("Accounting", username=f"acc{i}") for i in range(3)]

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("audit")).status_code == 200
        return len(ctx.captured_queries)

    customer = CustomerFactory(credit_limit=Decimal("1.00"))
    update_customer(customer=customer, actor=people[0], credit_limit="2")
    few = count()
    for i in range(30):
        update_customer(customer=CustomerFactory(credit_limit=Decimal("1.00")),
                        actor=people[i % 3], credit_limit=str(3 + i))
    assert count() == few


def test_pages_go_on_past_the_page_size(client_for, make_user, monkeypatch):
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    accounting = make_user("Accounting")
    for limit in ("2", "3", "4"):
        update_customer(customer=CustomerFactory(credit_limit=Decimal("1.00")),
                        actor=accounting, credit_limit=limit)
    client = client_for("Manager")
    first = client.get(reverse("audit"))
    assert len(first.context["rows"]) == 2 and first.context["page"].has_next
    second = client.get(reverse("audit"), {"page": 2})
    assert len(second.context["rows"]) == 1 and not second.context["page"].has_next


def test_values_are_rendered_in_the_readers_language(client_for, make_user):
    customer = CustomerFactory(standing="new", credit_limit=Decimal("1234.50"))
    update_customer(customer=customer, actor=make_user("Accounting"), standing="trusted",
                    credit_limit="2000")
    client = client_for("Manager")
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("audit"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "1\u202f234,50" in page or "1 234,50" in page or "1\xa0234,50" in page
    _ = date  # dates are formatted by the SHORT_DATE_FORMAT of the locale


def test_a_vat_rate_deleted_in_the_admin_is_recorded(client_for):
    client = client_for("Admin")
    rate = VatRate.objects.create(country="ZZ", category="reduced", rate=Decimal("6.00"))
    response = client.post(reverse("admin:inventory_vatrate_delete", args=[rate.pk]),
                           {"post": "yes"})
    assert response.status_code == 302 and not VatRate.objects.filter(pk=rate.pk).exists()
    entry = AuditEntry.objects.get(object_type="inventory.vatrate", object_id=rate.pk)
    assert (entry.kind, entry.before, entry.after, entry.actor) == (
        Kind.DELETED, str(rate), None, client.user)


def test_the_audit_admin_is_read_only(client_for):
    client = client_for("Admin")
    update_customer(customer=CustomerFactory(credit_limit=Decimal("1.00")), actor=None,
                    credit_limit="2")
    entry = AuditEntry.objects.get()
    assert client.get(reverse("admin:oms_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:oms_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:oms_auditentry_delete", args=[entry.pk]),
                       {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_cancelling_a_waiting_line_is_filed_under_its_order(make_user):
    from orders.services import approve_order, cancel_backordered_rest
    from tests.factories.fulfillment import shelved_product
    from tests.factories.inventory import WarehouseFactory

    main = WarehouseFactory(code="MAIN")
    ready = shelved_product(main, 1, bin_code="A-1")
    later = shelved_product(main, 0, bin_code="A-2", sku="LATER-1")
    order = make_order(customer=CustomerFactory(accepts_backorder=True, ship_complete=True),
                       lines=[(ready, 1), (later, 2)])
    approve_order(order_id=order.pk, actor=None)
    AuditEntry.objects.all().delete()
    sales = make_user("Sales")
    cancel_backordered_rest(order_id=order.pk, line_id=order.lines.get(product=later).pk,
                            actor=sales)
    assert [(field, before, after) for _kind, field, before, after, actor in _entries(order)
            if actor == sales.pk] == [
        ("orders.orderline.cancelled_quantity", 0, 2),
        ("orders.orderline.backordered_quantity", 2, 0)]
    entry = AuditEntry.objects.filter(field="orders.orderline.cancelled_quantity").get()
    assert entry.object_label == f"{order.number} · LATER-1"
    assert str(audit.field_label(entry.object_type, entry.field)) == "cancelled quantity"
