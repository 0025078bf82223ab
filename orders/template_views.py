"""Back-office views of saved order templates: place one from the customer
card (a confirmation at today's prices, then one POST), save one from the
entry screen, rename, delete. Saving from an order is on the order page
(`orders.views.save_template`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.forms import SubmissionForm
from oms.lib.htmx import swap_error
from oms.lib.http import get_or_404
from oms.lib.submissions import AlreadySubmitted
from orders import selectors, services, template_selectors
from orders.inputs import OrderTemplateInput, TemplateName
from orders.models import Channel, OrderTemplate

PLACE_PERMISSIONS = ("orders.view_ordertemplate", "orders.add_order", "orders.place_order")


def _card_url(customer_id: int) -> str:
    return f"{reverse('customers:detail', args=[customer_id])}#templates-title"


def _messages(exc: ApplicationError) -> list[str]:
    """The error and its field errors, each once."""
    found = [exc.message]
    for messages_ in exc.field_errors.values():
        found += [message for message in messages_ if message not in found]
    return found


def _confirmation(request: AuthenticatedRequest, pk: int, *, form: SubmissionForm,
                  errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    preview = get_or_404(template_selectors.template_preview, template_id=pk)
    return render(request, "orders/template_place.html",
                  {"preview": preview, "template": preview.template,
                   "customer": preview.template.customer, "entry": preview.entry,
                   "currency": preview.template.currency, "form": form,
                   "channel_label": Channel(preview.template.channel).label,
                   "errors": errors or []}, status=status)


@require_http_methods(["GET", "POST"])
@permission_required(*PLACE_PERMISSIONS)
def place(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """GET: the template as an order today (prices, availability, what is
    refused); POST: place it, once per rendered form."""
    if request.method == "GET":
        return _confirmation(request, pk, form=SubmissionForm())
    form = SubmissionForm(request.POST)
    if not form.is_valid():
        return _confirmation(request, pk, form=SubmissionForm(), status=400,
                             errors=_messages_of(form))
    get_or_404(template_selectors.get_template, template_id=pk)
    try:
        order = services.place_order_template(
            template_id=pk, actor=request.user,
            submission_key=form.cleaned_data["submission_key"])
    except AlreadySubmitted as exc:
        earlier = selectors.get_order(order_id=exc.result_id) if exc.result_id else None
        if earlier is None:
            messages.warning(request, exc.message)
            return redirect("orders:template_place", pk)
        messages.warning(request, _("Order %(number)s was already placed from this form; no "
                                    "second order was made.") % {"number": earlier.number})
        return redirect("orders:detail", pk=earlier.pk)
    except ApplicationError as exc:
        # Nothing was written: show the template as it stands now, with the refusal.
        return _confirmation(request, pk, form=form, errors=_messages(exc),
                             status=exc.status if exc.status != 400 else 422)
    messages.success(request, _("Order %(number)s placed.") % {"number": order.number})
    return redirect("orders:detail", pk=order.pk)


def _messages_of(form: SubmissionForm) -> list[str]:
    return [str(message) for messages_ in form.errors.values() for message in messages_]


@require_POST
@permission_required("orders.add_ordertemplate")
def save_from_entry(request: AuthenticatedRequest) -> HttpResponse:
    """Save the entry screen's customer, currency, channel and lines as a
    template (the order itself is not saved)."""
    skus = request.POST.getlist("line_sku")
    quantities = request.POST.getlist("line_qty")
    customer = request.POST.get("customer", "")
    try:
        template = services.save_order_template(OrderTemplateInput.parse({
            "customer": customer, "name": request.POST.get("template_name", ""),
            "currency": request.POST.get("currency", ""),
            "channel": request.POST.get("channel") or "phone",
            "lines": [{"sku": sku, "quantity": quantities[index] if index < len(quantities)
                       else ""} for index, sku in enumerate(skus) if sku.strip()],
            "notes": request.POST.get("notes", "")}), actor=request.user)
    except ApplicationError as exc:
        response = render(request, "_partials/error.html", {"error": " ".join(_messages(exc))},
                          status=exc.status if exc.status != 400 else 422)
        return swap_error(response, "#template-save-result", "innerHTML") if request.htmx \
            else response
    messages.success(request, _("Template %(name)s saved.") % {"name": template.name})
    if request.htmx:
        return HttpResponseClientRedirect(_card_url(template.customer_id))
    return redirect(_card_url(template.customer_id))


@require_POST
@permission_required("orders.change_ordertemplate")
def rename(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    template: OrderTemplate = get_or_404(template_selectors.get_template, template_id=pk)
    try:
        services.rename_order_template(
            template_id=pk, data=TemplateName.parse({"name": request.POST.get("name", "")}),
            actor=request.user)
    except ApplicationError as exc:
        messages.error(request, " ".join(_messages(exc)))
        return redirect(_card_url(template.customer_id))
    messages.success(request, _("Template renamed."))
    return redirect(_card_url(template.customer_id))


@require_POST
@permission_required("orders.delete_ordertemplate")
def delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    template: OrderTemplate = get_or_404(template_selectors.get_template, template_id=pk)
    services.delete_order_template(template_id=pk, actor=request.user)
    messages.success(request, _("Template %(name)s deleted.") % {"name": template.name})
    return redirect(_card_url(template.customer_id))
