"""Reads of saved order templates: the customer card's list and the
confirmation before placing one, priced and checked as order entry does
(`orders.entry_selectors.entry_lines`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from customers.models import Address, CustomerKind
from oms.lib.errors import ApplicationError
from orders.entry_selectors import EntryBuyer, EntryLines, entry_lines
from orders.inputs import PlaceOrder
from orders.models import OrderTemplate, OrderTemplateLine

_LINES = Prefetch("lines", queryset=OrderTemplateLine.objects.select_related("product")
                  .order_by("position"))


def templates_of_customer(*, customer_id: int) -> list[OrderTemplate]:
    """The customer's templates by name, with their lines and products: two queries."""
    return list(OrderTemplate.objects.filter(customer_id=customer_id)
                .prefetch_related(_LINES).order_by("name", "id"))


def get_template(*, template_id: int) -> OrderTemplate:
    return (OrderTemplate.objects.select_related("customer")
            .prefetch_related(_LINES, "customer__addresses").get(pk=template_id))


def template_order_input(template: OrderTemplate) -> PlaceOrder:
    """The placement input a template stands for today: its lines, the
    customer's default shipping (and billing) address. Expects the
    customer's addresses and the lines' products prefetched."""
    customer = template.customer
    shipping = customer.default_address("shipping") or customer.default_address("billing")
    if shipping is None:
        message = _("%(name)s has no address on file; add one on the customer card first.") % {
            "name": customer.name}
        raise ApplicationError(message, field_errors={"shipping_address": [message]},
                               code="no_address")
    billing = customer.default_address("billing")
    return PlaceOrder.parse({
        "customer": customer.pk, "channel": template.channel, "currency": template.currency,
        "lines": [{"sku": line.product.sku, "quantity": line.quantity}
                  for line in template.lines.all()],
        "shipping_address": shipping.as_snapshot(),
        "billing_address": billing.as_snapshot() if billing else None,
        "notes": template.notes})


@dataclass(frozen=True)
class TemplatePreview:
    template: OrderTemplate
    entry: EntryLines  # today's prices, availability and each line's errors
    ship_to: Address | None
    error: str  # why it cannot be placed as it is, if it cannot

    @property
    def can_place(self) -> bool:
        return not self.error


def template_preview(*, template_id: int) -> TemplatePreview:
    """What placing the template now would order: each line at today's price
    from the customer's price lists, its availability, and the reasons it
    would be refused (an inactive product, no price in the currency, no
    address)."""
    template = get_template(template_id=template_id)
    customer = template.customer
    lines = list(template.lines.all())
    ship_to = customer.default_address("shipping") or customer.default_address("billing")
    buyer = (EntryBuyer(country=ship_to.country, vat_id=customer.vat_id,
                        is_business=customer.kind == CustomerKind.COMPANY)
             if ship_to is not None else None)
    entry = entry_lines([line.product.sku for line in lines],
                        [str(line.quantity) for line in lines],
                        customer=customer, currency=template.currency, buyer=buyer)
    error = ""
    try:
        template_order_input(template)
    except ApplicationError as exc:
        error = exc.message
    if not error and customer.is_blocked:
        error = _("Customer %(name)s is blocked and cannot order.") % {"name": customer.name}
    if not error and entry.has_errors:
        error = _("Some lines cannot be ordered; change the template or use order entry.")
    return TemplatePreview(template=template, entry=entry, ship_to=ship_to, error=error)
