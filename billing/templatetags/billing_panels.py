"""The billing panel of pages owned by other apps (the order page), fed by
billing.selectors, so the page's query count does not depend on the panel."""

from __future__ import annotations

from django import template
from django.urls import reverse

from billing import selectors

register = template.Library()


@register.inclusion_tag("billing/_order_invoices.html", takes_context=True)
def order_invoices(context: template.Context, order) -> dict:
    """The order's issued invoices, for users who may see invoices."""
    allowed = context["request"].user.has_perm("billing.view_invoice")
    return {"invoices": list(selectors.invoices_of_order(order_id=order.pk)) if allowed else []}


@register.inclusion_tag("billing/_customer_receivables.html", takes_context=True)
def customer_receivables(context: template.Context, customer) -> dict:
    """The customer card's money: open and overdue balance, credit, latest invoices."""
    if not context["request"].user.has_perm("billing.view_invoice"):
        return {"allowed": False}
    return {"allowed": True, "customer": customer,
            **selectors.customer_receivables(customer_id=customer.pk)}


@register.simple_tag(takes_context=True)
def credit_note_url(context: template.Context, number: str) -> str:
    """The PDF of the credit note numbered `number` ("" for readers who may
    not see credit notes, or no such note)."""
    if not number or not context["request"].user.has_perm("billing.view_creditnote"):
        return ""
    note_id = selectors.credit_note_id_by_number(number=number)
    return reverse("billing:credit_note_pdf", args=[note_id]) if note_id else ""


@register.inclusion_tag("billing/_customer_open_invoices.html")
def customer_open_invoices(order, token: str) -> dict:
    """The customer's page (no login, the token is the credential): each
    invoice that still owes money, with its Pay button."""
    return {"invoices": selectors.payable_invoices_of_order(order_id=order.pk),
            "token": token}
