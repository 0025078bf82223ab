"""Views of billing: the approval queue, and the customer's card page.

The queue is for Sales and Accounting (`orders.approve_order`); each decision
is one POST URL answering with the row's partial for htmx. The card page is
public on purpose: the signed, expiring token in its URL is the credential.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import selectors, services
from billing.forms import CardForm, DecisionForm
from billing.models import PaymentStatus
from billing.providers import PaymentError
from oms.lib.auth import permission_required, public
from oms.lib.errors import ApplicationError
from orders.models import Order

QUEUE_PAGE_SIZE = 25


@require_GET
@permission_required("orders.approve_order")
def approval_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.approval_queue(), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page"))
    context = {"page": page, "orders": page.object_list}
    if request.htmx and request.htmx.target == "queue":
        return render(request, "billing/approval_queue.html#queue", context)
    return render(request, "billing/approval_queue.html", context)


def _decided(request: HttpRequest, order: Order, message: str) -> HttpResponse:
    if request.htmx:
        return render(request, "billing/approval_queue.html#decided-row",
                      {"order": order, "message": message})
    messages.success(request, message)
    return redirect("billing:approval_queue")


@require_POST
@permission_required("orders.approve_order")
def approve(request: HttpRequest, order_id: int) -> HttpResponse:
    get_object_or_404(Order, pk=order_id)
    form = DecisionForm(request.POST)
    form.is_valid()
    order = services.approve_held_order(order_id=order_id, actor=request.user,
                                        reason=form.cleaned_data.get("reason", ""))
    return _decided(request, order, _("Order %(number)s approved: %(status)s.")
                    % {"number": order.number, "status": order.get_status_display()})


@require_POST
@permission_required("orders.approve_order")
def reject(request: HttpRequest, order_id: int) -> HttpResponse:
    get_object_or_404(Order, pk=order_id)
    form = DecisionForm(request.POST)
    form.is_valid()
    order = services.reject_held_order(order_id=order_id, actor=request.user,
                                       reason=form.cleaned_data.get("reason", ""))
    return _decided(request, order, _("Order %(number)s rejected and cancelled.")
                    % {"number": order.number})


@require_http_methods(["GET", "POST"])
@never_cache  # the page carries a payment form and a bearer token in its URL
@public
def card_retry(request: HttpRequest, token: str) -> HttpResponse:
    try:
        order_id = services.order_id_from_card_link(token)
    except ApplicationError as exc:
        return render(request, "billing/card_retry.html", {"error": exc.message}, status=400)
    order = get_object_or_404(Order.objects.select_related("customer"), pk=order_id)
    context = {"order": order, "token": token}
    if not services.order_awaits_card(order):
        return render(request, "billing/card_retry.html", {**context, "settled": True})

    if request.method == "POST":
        form = CardForm(request.POST)
        if form.is_valid():
            try:
                result = services.retry_card_payment(
                    order_id=order.pk, card_number=form.cleaned_data["card_number"],
                    attempt_key=form.cleaned_data["attempt_key"])
            except PaymentError as exc:
                for field, errors in exc.field_errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                if not exc.field_errors:
                    form.add_error(None, exc.message)
            except ApplicationError as exc:
                return render(request, "billing/card_retry.html",
                              {**context, "error": exc.message}, status=exc.status)
            else:
                if result.status == PaymentStatus.AUTHORISED:
                    order.refresh_from_db()
                    return render(request, "billing/card_retry.html",
                                  {**context, "order": order, "success": True,
                                   "masked_card": f"{result.brand} •••• {result.last4}"})
                form.add_error(None, result.message or _("The card was not accepted."))
        # A fresh key per attempt: the next submit is a new authorisation.
        form.data = form.data.copy()
        form.data["attempt_key"] = services.new_attempt_key()
        return render(request, "billing/card_retry.html", {**context, "form": form},
                      status=400)

    form = CardForm(initial={"attempt_key": services.new_attempt_key()})
    return render(request, "billing/card_retry.html", {**context, "form": form})
