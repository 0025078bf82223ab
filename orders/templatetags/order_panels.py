"""The orders panels of pages owned by lower apps (the customer card), fed by
orders' selectors: customers cannot import orders, its templates can load this."""

from __future__ import annotations

from django import template

from orders import return_selectors, selectors, template_selectors

register = template.Library()


@register.inclusion_tag("orders/_customer_emails.html", takes_context=True)
def customer_emails(context: template.Context, customer) -> dict:
    """Every e-mail sent to the customer about its orders, newest first."""
    allowed = context["request"].user.has_perm("orders.view_order")
    return {"allowed": allowed,
            "emails": selectors.emails_to_customer(customer_id=customer.pk) if allowed else []}


@register.inclusion_tag("orders/_customer_timeline.html", takes_context=True)
def customer_timeline(context: template.Context, customer) -> dict:
    """Everything that happened with the customer, newest first."""
    allowed = context["request"].user.has_perm("orders.view_order")
    return {"entries": selectors.customer_timeline(customer_id=customer.pk) if allowed else []}


@register.inclusion_tag("orders/returns/_order_returns.html", takes_context=True)
def order_returns(context: template.Context, order) -> dict:
    """The order's returns, and "Start a return" while shipped units remain
    returnable, for users who may see (open) returns."""
    user = context["request"].user
    if not user.has_perm("orders.view_return"):
        return {"returns": [], "may_start": False}
    may_start = (user.has_perm("orders.add_return")
                 and return_selectors.returnable_lines(order_id=order.pk).any_returnable)
    return {"order": order, "returns": return_selectors.order_returns(order_id=order.pk),
            "may_start": may_start}


@register.inclusion_tag("orders/returns/_customer_returns.html", takes_context=True)
def customer_returns(context: template.Context, customer) -> dict:
    """The customer card's returns, and "Start a return" on its latest orders
    with shipped units still returnable, for users who may open one."""
    user = context["request"].user
    if not user.has_perm("orders.view_return"):
        return {"allowed": False}
    may_start = user.has_perm("orders.add_return")
    return {"allowed": True, "returns": return_selectors.customer_returns(customer_id=customer.pk),
            "returnable": (return_selectors.returnable_orders(customer_id=customer.pk)
                           if may_start else [])}


@register.inclusion_tag("orders/_customer_templates.html", takes_context=True)
def customer_templates(context: template.Context, customer) -> dict:
    """The customer's saved order templates, each with "Place" for users who
    may place orders."""
    user = context["request"].user
    if not user.has_perm("orders.view_ordertemplate"):
        return {"allowed": False}
    return {"allowed": True, "customer": customer,
            "templates": template_selectors.templates_of_customer(customer_id=customer.pk),
            "may_place": user.has_perms(["orders.add_order", "orders.place_order"]),
            "may_change": user.has_perm("orders.change_ordertemplate"),
            "may_delete": user.has_perm("orders.delete_ordertemplate"),
            "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("orders/_order_feedback.html", takes_context=True)
def order_feedback(context: template.Context, order) -> dict:
    """The customer's rating of the order, once delivered."""
    allowed = context["request"].user.has_perm("orders.view_orderfeedback")
    return {"order": order, "allowed": allowed,
            "feedback": selectors.order_feedback(order_id=order.pk) if allowed else None}


@register.inclusion_tag("orders/_customer_feedback.html", takes_context=True)
def customer_feedback(context: template.Context, customer) -> dict:
    """The customer's latest ratings of its orders and their average."""
    allowed = context["request"].user.has_perm("orders.view_orderfeedback")
    answers, average = (selectors.customer_feedback(customer_id=customer.pk) if allowed
                        else ([], None))
    return {"allowed": allowed, "answers": answers, "average": average}
