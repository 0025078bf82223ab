"""Saved order templates: save one (from an order or the entry screen),
rename, delete, and place one again.

A template keeps products and quantities only. Placing it builds the same
`PlaceOrder` input order entry builds (the customer's default shipping
address, its payment preference, the template's currency and channel) and
calls `place_order`, so prices are the day's price lists and every check of
placement applies: an inactive or unpriced product refuses the whole order,
nothing written. The placement form's one-time key makes a double click
place one order.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from customers.models import Customer
from inventory import api as inventory_api
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
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


def save_order_template(data: OrderTemplateInput, *, actor: Actor) -> OrderTemplate:
    """Save a named template for the customer; field errors keyed by input
    path (`name`, `customer`, `lines.0.sku`)."""
    errors: dict[str, list[str]] = {}
    if not Customer.objects.filter(pk=data.customer).exists():
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
            OrderTemplateLine.objects.bulk_create([
                OrderTemplateLine(template=template, position=position,
                                  product_id=products[line.sku].id, quantity=line.quantity)
                for position, line in enumerate(data.lines, start=1)])
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
            template = OrderTemplate.objects.select_for_update().get(pk=template_id)
            template.name = data.name
            template.save(update_fields=["name", "updated_at"])
    except IntegrityError as exc:
        raise _name_taken() from exc
    return template


def delete_order_template(*, template_id: int, actor: Actor) -> None:
    """Remove the template (its orders stay as they are)."""
    OrderTemplate.objects.filter(pk=template_id).delete()


def place_order_template(*, template_id: int, actor: Actor,
                         submission_key: str | None = None) -> Order:
    """Place the template as a new order at today's prices; raises what
    `place_order` raises (field errors `lines.<i>.sku` follow the template's
    line order, `AlreadySubmitted` for a replayed form)."""
    template = get_template(template_id=template_id)
    return place_order(template_order_input(template), actor=actor,
                       submission_key=submission_key)
