"""Saved order templates: save one (from an order or the entry screen),
rename, delete, and place one again.

A template keeps products and quantities only. Placing it builds the same
`PlaceOrder` input order entry builds (the customer's default shipping
address, its payment preference, the template's currency and channel) and
calls `place_order`, so prices are the day's price lists and every check of
placement applies: an inactive or unpriced product refuses the whole order,
nothing written. The placement form's one-time key makes a double click
place one order.

Saving, renaming and deleting a template write the audit trail in the
same transaction, filed under the template (`orders.ordertemplate`,
labelled "customer · template"): its fields, and each line's quantity as a
part (`orders.ordertemplateline.quantity`, labelled with the SKU).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from customers.models import Customer
from inventory import api as inventory_api
from oms.lib import audit
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.models import AuditEntry
from orders.inputs import OrderTemplateInput, TemplateName
from orders.models import Channel, Order, OrderTemplate, OrderTemplateLine
from orders.services._common import _actor_id
from orders.services.placement import place_order
from orders.template_selectors import get_template, template_order_input

# Orders that came from no person: their templates are placed by the order desk.
MACHINE_CHANNELS = (Channel.API, Channel.IMPORT)


def _name_taken() -> ApplicationError:
    message = _("This customer already has a template of that name.")
    return ApplicationError(message, field_errors={"name": [message]}, code="name_taken")


def _label(customer_name: str, template_name: str) -> str:
    return f"{customer_name} · {template_name}"


def _audit_entries(template: OrderTemplate, *, customer_name: str, kind: str,
                   fields: dict[str, object], lines: Iterable[tuple[OrderTemplateLine, str]],
                   actor: Actor) -> list[AuditEntry]:
    """A template created (values from None) or deleted (values to None):
    its non-empty fields, then each line's quantity."""
    label = _label(customer_name, template.name)
    created = kind == audit.Kind.CREATED

    def pair(value: object) -> tuple[object, object]:
        return (None, value) if created else (value, None)

    rows = audit.build_entries(template, actor=actor, kind=kind, object_label=label, changes={
        name: pair(value) for name, value in fields.items() if value not in ("", None)})
    for line, sku in lines:
        rows += audit.build_entries(line, on=template, object_label=f"{label} · {sku}",
                                    actor=actor, kind=kind,
                                    changes={"quantity": pair(line.quantity)})
    return rows


def _audited_fields(template: OrderTemplate, customer_name: str) -> dict[str, object]:
    return {"customer": {"id": template.customer_id, "label": customer_name},
            "name": template.name, "currency": template.currency,
            "channel": template.channel, "notes": template.notes}


def save_order_template(data: OrderTemplateInput, *, actor: Actor) -> OrderTemplate:
    """Save a named template for the customer; field errors keyed by input
    path (`name`, `customer`, `lines.0.sku`)."""
    errors: dict[str, list[str]] = {}
    customer_name = (Customer.objects.filter(pk=data.customer)
                     .values_list("name", flat=True).first())
    if customer_name is None:
        errors["customer"] = [_("Choose a customer.")]
    products = inventory_api.products_by_sku(skus=[line.sku for line in data.lines])
    seen: set[str] = set()
    for index, line in enumerate(data.lines):
        if line.sku not in products:
            errors[f"lines.{index}.sku"] = [_("Unknown SKU %(sku)s.") % {"sku": line.sku}]
        elif line.sku in seen:
            errors[f"lines.{index}.sku"] = [_("This product is already on the order.")]
        seen.add(line.sku)
    if errors:
        raise ApplicationError(_("The template has errors; nothing was saved."),
                               field_errors=errors)
    try:
        with transaction.atomic():
            template = OrderTemplate.objects.create(
                customer_id=data.customer, name=data.name, currency=data.currency,
                channel=data.channel, notes=data.notes, created_by_id=_actor_id(actor))
            lines = OrderTemplateLine.objects.bulk_create([
                OrderTemplateLine(template=template, position=position,
                                  product_id=products[line.sku].id, quantity=line.quantity)
                for position, line in enumerate(data.lines, start=1)])
            assert customer_name is not None  # an unknown customer is refused above
            audit.save_entries(_audit_entries(
                template, customer_name=customer_name, kind=audit.Kind.CREATED,
                fields=_audited_fields(template, customer_name),
                lines=zip(lines, [line.sku for line in data.lines], strict=True), actor=actor))
    except IntegrityError as exc:  # the unique name, taken by a twin request
        raise _name_taken() from exc
    return template


def save_template_from_order(*, order_id: int, data: TemplateName,
                             actor: Actor) -> OrderTemplate:
    """A template of an order's lines as ordered, less what was cancelled."""
    order = Order.objects.get(pk=order_id)
    lines = [{"sku": sku, "quantity": quantity - cancelled}
             for sku, quantity, cancelled in order.lines.order_by("position").values_list(
                 "sku", "quantity", "cancelled_quantity") if quantity > cancelled]
    channel = Channel.PHONE if order.channel in MACHINE_CHANNELS else order.channel
    return save_order_template(OrderTemplateInput.parse({
        "customer": order.customer_id, "name": data.name, "currency": order.currency,
        "channel": channel, "lines": lines}), actor=actor)


def rename_order_template(*, template_id: int, data: TemplateName,
                          actor: Actor) -> OrderTemplate:
    try:
        with transaction.atomic():
            template = (OrderTemplate.objects.select_for_update(of=("self",))
                        .select_related("customer").get(pk=template_id))
            before = template.name
            template.name = data.name
            template.save(update_fields=["name", "updated_at"])
            audit.record_changes(template, actor=actor, kind=audit.Kind.CHANGED,
                                 object_label=_label(template.customer.name, template.name),
                                 changes={"name": (before, template.name)})
    except IntegrityError as exc:
        raise _name_taken() from exc
    return template


def delete_order_template(*, template_id: int, actor: Actor) -> None:
    """Remove the template (its orders stay as they are); one already gone
    is no change."""
    with transaction.atomic():
        template = (OrderTemplate.objects.select_for_update(of=("self",))
                    .select_related("customer").filter(pk=template_id).first())
        if template is None:
            return
        lines = list(template.lines.select_related("product").order_by("position"))
        # Built before the delete, which clears the records' ids.
        entries = _audit_entries(
            template, customer_name=template.customer.name, kind=audit.Kind.DELETED,
            fields=_audited_fields(template, template.customer.name),
            lines=[(line, line.product.sku) for line in lines], actor=actor)
        template.delete()
        audit.save_entries(entries)


def place_order_template(*, template_id: int, actor: Actor,
                         submission_key: str | None = None) -> Order:
    """Place the template as a new order at today's prices; raises what
    `place_order` raises (field errors `lines.<i>.sku` follow the template's
    line order, `AlreadySubmitted` for a replayed form)."""
    template = get_template(template_id=template_id)
    return place_order(template_order_input(template), actor=actor,
                       submission_key=submission_key)
