"""Back-office views of the orders app: the order list and the order detail
with one POST URL per action. Thin: parse, call a selector or a service,
render. Order entry and CSV import live in orders/entry.py.

Every action answers an htmx request with the re-rendered order panel; a
refused action answers with the panel, its message and the service's status
(409 for an illegal transition).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.paging import parse_page
from orders import selectors, services
from orders.models import Channel, HoldReason, Order, OrderStatus

# FSM transition name -> (label, button style); the order shown is the
# order of the buttons. `backorder` and `expire` are outcomes, not buttons.
ACTIONS = {
    "place": (gettext_lazy("Place order"), "primary"),
    "approve": (gettext_lazy("Approve"), "primary"),
    "allocate": (gettext_lazy("Allocate stock"), "primary"),
    "hold": (gettext_lazy("Put on hold"), ""),
    "reject": (gettext_lazy("Reject"), "danger"),
    "cancel": (gettext_lazy("Cancel order"), "danger"),
}


def available_actions(order: Order, user) -> list[str]:
    """The transitions this user may perform on this order right now."""
    # django-fsm adds the method when the model class is built: no stub sees it.
    allowed = {t.name for t in order.get_available_user_status_transitions(user)}  # type: ignore[attr-defined]
    return [name for name in ACTIONS if name in allowed]


@require_GET
@permission_required("orders.view_order")
def order_list(request: AuthenticatedRequest) -> HttpResponse:
    params = request.GET
    try:
        page_size = int(params.get("per_page") or 25)
    except ValueError:
        page_size = 25
    filters = selectors.filters_from_params(params)
    page = selectors.order_page(filters, page=parse_page(params.get("page")),
                                page_size=page_size)
    context = {"page": page, "orders": page.object_list, "filters": filters,
               "per_page": page.page_size, "page_sizes": selectors.PAGE_SIZES,
               "statuses": OrderStatus.choices, "channels": Channel.choices}
    if request.htmx and request.htmx.target == "order-results":
        return render(request, "orders/order_list.html#results", context)
    return render(request, "orders/order_list.html", context)


def _render_detail(request: AuthenticatedRequest, order_id: int, *, error: str = "",
                   notice: str = "", status: int = 200) -> HttpResponse:
    try:
        detail = selectors.order_detail(order_id=order_id)
    except Order.DoesNotExist:
        raise Http404
    context = {
        "detail": detail, "order": detail.order,
        "actions": [(name, *ACTIONS[name])
                    for name in available_actions(detail.order, request.user)],
        "can_note": request.user.has_perm("orders.add_note"),
        "hold_reasons": HoldReason.choices, "error": error, "notice": notice,
    }
    template = "orders/order_detail.html"
    if request.htmx and request.htmx.target == "order-panel":
        template += "#panel"
    return render(request, template, context, status=status)


@require_GET
@permission_required("orders.view_order")
def order_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _render_detail(request, pk)


def _act(request: AuthenticatedRequest, pk: int, call: Callable[[], object],
         done: str) -> HttpResponse:
    """Run one service call for the order and answer with its panel."""
    get_object_or_404(Order.objects.only("pk"), pk=pk)
    try:
        call()
    except ApplicationError as exc:
        details = [m for messages_ in exc.field_errors.values() for m in messages_]
        error = " ".join([exc.message, *details]) if details else exc.message
        return _render_detail(request, pk, error=error, status=exc.status)
    if request.htmx:
        return _render_detail(request, pk, notice=done)
    messages.success(request, done)
    return redirect("orders:detail", pk)


@require_POST
@permission_required("orders.place_order")
def place(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: services.place_draft(
        order=Order.objects.get(pk=pk), payment=None, actor=request.user),
        _("Order placed."))


@require_POST
@permission_required("orders.approve_order")
def approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: services.approve_order(
        order_id=pk, actor=request.user, reason=request.POST.get("reason", "")),
        _("Order approved."))


@require_POST
@permission_required("orders.approve_order")
def allocate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: services.allocate_backorder(order_id=pk, actor=request.user),
                _("Stock allocated."))


@require_POST
@permission_required("orders.approve_order")
def hold(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: services.hold_order(
        order_id=pk, reason_code=request.POST.get("reason_code", ""),
        reason_text=request.POST.get("reason_text", ""), actor=request.user),
        _("Order put on hold."))


@require_POST
@permission_required("orders.approve_order")
def reject(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: services.reject_order(
        order_id=pk, actor=request.user, reason=request.POST.get("reason", "")),
        _("Order rejected."))


@require_POST
@permission_required("orders.cancel_order")
def cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: services.cancel_order(
        order_id=pk, actor=request.user, reason=request.POST.get("reason", "")),
        _("Order cancelled."))


@require_POST
@permission_required("orders.add_note")
def note(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: services.add_note(
        order_id=pk, text=request.POST.get("text", ""), actor=request.user),
        _("Note added."))
