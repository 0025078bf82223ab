"""Saved order templates in the audit trail: saving, renaming and deleting one
write who, when and what (customer, name, each line's quantity) in the
change's own transaction, filed under the template, and the audit page
lists and filters them like every other record's changes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from oms.lib.errors import ApplicationError
from oms.models import AuditEntry
from orders.inputs import TemplateName
from orders.models import OrderTemplate
from orders.services import (
    delete_order_template,
    rename_order_template,
    save_template_from_order,
)
from tests.factories.customers import CustomerFactory
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

Kind = AuditEntry.Kind
TEMPLATE = "orders.ordertemplate"


@pytest.fixture
def order():
    """An order of 10 bolts and 20 nuts for Hélène Marchal, 5 nuts cancelled."""
    bolts = stocked_product(sku="BOLT-1", unit_price=Decimal("2.00"))
    nuts = stocked_product(sku="NUT-1", unit_price=Decimal("0.50"))
    order = make_order(customer=CustomerFactory(name="Hélène Marchal"),
                       lines=[(bolts, 10), (nuts, 20)])
    order.lines.filter(sku="NUT-1").update(cancelled_quantity=5)
    return order


def _save(order, name, actor) -> OrderTemplate:
    return save_template_from_order(order_id=order.pk, data=TemplateName.parse({"name": name}),
                                    actor=actor)


def _entries(template_id: int) -> list[tuple]:
    return list(AuditEntry.objects.filter(object_type=TEMPLATE, object_id=template_id)
                .order_by("id").values_list("kind", "field", "before", "after", "actor_id",
                                            "object_label"))


def test_saving_from_an_order_page_records_the_customer_name_and_lines(client_for, order):
    client = client_for("Sales")
    response = client.post(reverse("orders:save_template", args=[order.pk]),
                           {"name": "Weekly restock"})
    assert response.status_code == 302
    template = OrderTemplate.objects.get()
    customer = order.customer
    label = "Hélène Marchal · Weekly restock"
    assert _entries(template.pk) == [
        (Kind.CREATED, "customer", None, {"id": customer.pk, "label": "Hélène Marchal"},
         client.user.pk, label),
        (Kind.CREATED, "name", None, "Weekly restock", client.user.pk, label),
        (Kind.CREATED, "currency", None, "EUR", client.user.pk, label),
        (Kind.CREATED, "channel", None, "phone", client.user.pk, label),
        (Kind.CREATED, "orders.ordertemplateline.quantity", None, 10, client.user.pk,
         f"{label} · BOLT-1"),
        (Kind.CREATED, "orders.ordertemplateline.quantity", None, 15, client.user.pk,
         f"{label} · NUT-1")]


def test_a_rename_records_the_name_before_and_after(order, make_user):
    sales = make_user("Sales")
    template = _save(order, "Weekly", sales)
    AuditEntry.objects.all().delete()
    rename_order_template(template_id=template.pk, data=TemplateName.parse({"name": "Friday"}),
                          actor=sales)
    rename_order_template(template_id=template.pk, data=TemplateName.parse({"name": "Friday"}),
                          actor=sales)  # the same name: no change
    assert _entries(template.pk) == [
        (Kind.CHANGED, "name", "Weekly", "Friday", sales.pk, "Hélène Marchal · Friday")]


def test_a_delete_records_what_the_template_held_and_outlives_it(order, make_user):
    sales = make_user("Sales")
    template = _save(order, "Weekly", sales)
    template_id = template.pk
    AuditEntry.objects.all().delete()
    delete_order_template(template_id=template_id, actor=sales)
    delete_order_template(template_id=template_id, actor=sales)  # already gone: nothing
    assert not OrderTemplate.objects.exists()
    label = "Hélène Marchal · Weekly"
    assert [(kind, field, before, after) for kind, field, before, after, actor, _label
            in _entries(template_id) if actor == sales.pk] == [
        (Kind.DELETED, "customer", {"id": order.customer_id, "label": "Hélène Marchal"}, None),
        (Kind.DELETED, "name", "Weekly", None),
        (Kind.DELETED, "currency", "EUR", None),
        (Kind.DELETED, "channel", "phone", None),
        (Kind.DELETED, "orders.ordertemplateline.quantity", 10, None),
        (Kind.DELETED, "orders.ordertemplateline.quantity", 15, None)]
    assert {entry_label for *_rest, entry_label in _entries(template_id)} == {
        label, f"{label} · BOLT-1", f"{label} · NUT-1"}


def test_refused_saves_and_renames_write_no_entry(order, make_user):
    sales = make_user("Sales")
    _save(order, "Weekly", sales)
    other = _save(order, "Monthly", sales)
    AuditEntry.objects.all().delete()
    with pytest.raises(ApplicationError):
        _save(order, "Weekly", sales)  # the name is taken
    with pytest.raises(ApplicationError):
        rename_order_template(template_id=other.pk, actor=sales,
                              data=TemplateName.parse({"name": "Weekly"}))
    assert not AuditEntry.objects.exists()


def test_the_admins_delete_action_is_recorded_as_the_admin(admin_client, order):
    template = _save(order, "Weekly", None)
    admin_client.post(reverse("admin:orders_ordertemplate_changelist"), {
        "action": "delete_selected_templates", "_selected_action": [template.pk]})
    assert not OrderTemplate.objects.exists()
    admin = admin_client.session["_auth_user_id"]
    assert {(kind, str(actor)) for kind, _f, _b, _a, actor, _l in _entries(template.pk)
            if kind == Kind.DELETED} == {(Kind.DELETED, admin)}


# --- the audit page ------------------------------------------------------------------

@pytest.fixture
def history(order, make_user):
    """A template saved, renamed and deleted, another saved, and a customer change."""
    sales = make_user("Sales", username="sam")
    gone = _save(order, "Weekly", sales)
    rename_order_template(template_id=gone.pk, data=TemplateName.parse({"name": "Friday"}),
                          actor=sales)
    delete_order_template(template_id=gone.pk, actor=sales)
    kept = _save(order, "Monthly", sales)
    from customers.services import update_customer
    update_customer(customer=CustomerFactory(name="Globex", phone=""), actor=sales,
                    phone="+32 2 555 0101")
    return {"gone": gone.pk, "kept": kept.pk}


def _listed(response) -> list[tuple[str, str, str, str, str]]:
    return [(row.entry.kind, row.type_label, row.entry.object_label, row.field_label,
             row.before) for row in response.context["rows"]]


@pytest.mark.parametrize("params, expected", [
    (lambda h: {"object_type": TEMPLATE, "kind": "deleted"}, [
        ("deleted", "order template", "Hélène Marchal · Friday · NUT-1", "quantity", "15"),
        ("deleted", "order template", "Hélène Marchal · Friday · BOLT-1", "quantity", "10"),
        ("deleted", "order template", "Hélène Marchal · Friday", "channel", "phone"),
        ("deleted", "order template", "Hélène Marchal · Friday", "currency", "EUR"),
        ("deleted", "order template", "Hélène Marchal · Friday", "name", "Friday"),
        ("deleted", "order template", "Hélène Marchal · Friday", "customer",
         "Hélène Marchal")]),
    (lambda h: {"object_type": TEMPLATE, "object_id": h["gone"], "kind": "changed"}, [
        ("changed", "order template", "Hélène Marchal · Friday", "name", "Weekly")]),
    (lambda h: {"object_type": TEMPLATE, "object_id": h["kept"], "kind": "created",
                "q": "monthly"}, [
        ("created", "order template", "Hélène Marchal · Monthly · NUT-1", "quantity", "—"),
        ("created", "order template", "Hélène Marchal · Monthly · BOLT-1", "quantity", "—"),
        ("created", "order template", "Hélène Marchal · Monthly", "channel", "—"),
        ("created", "order template", "Hélène Marchal · Monthly", "currency", "—"),
        ("created", "order template", "Hélène Marchal · Monthly", "name", "—"),
        ("created", "order template", "Hélène Marchal · Monthly", "customer", "—")]),
])
def test_the_audit_page_lists_and_filters_template_changes(client_for, history, params,
                                                           expected):
    response = client_for("Manager").get(reverse("audit"), params(history))
    assert response.status_code == 200
    assert _listed(response) == expected


def test_the_audit_page_offers_templates_among_the_object_types(client_for, history):
    response = client_for("Manager").get(reverse("audit"))
    assert (TEMPLATE, "order template") in [
        (value, str(label)) for value, label in response.context["form"]["object_type"]
        .field.choices]
    assert sum(row.type_label == "order template" for row in response.context["rows"]) == 19
