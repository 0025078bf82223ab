"""Back-office screens of returns (RMA): the list, one return with the
actions its state and the user's role allow, and "Start a return" from the
order page. Thin: parse, call one service or selector, render.

The warehouse's receiving screens live in fulfillment, the settlement in
billing; this page links to them and shows their results.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.htmx import render_partial
from oms.lib.http import get_or_404
from orders import return_selectors, selectors
from orders.inputs import ReturnRequest
from orders.models import ReturnChannel, ReturnReason, ReturnStatus, Settlement
from orders.return_documents import rma_label_pdf
from orders.services import returns as return_services

# Channels staff open a return through (the web is the customer's signed link,
# the carrier opens its own).
STAFF_CHANNELS = [(value, label) for value, label in ReturnChannel.choices
                  if value in return_services.STAFF_CHANNELS]


@require_GET
@permission_required("orders.view_return")
def return_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()[:100]
    error = ""
    if status and status not in ReturnStatus.values:
        error, status = _("Unknown status: choose one from the list."), ""
    return render_partial(request, "orders/returns/list.html", {
        "returns": [] if error else return_selectors.returns_page(status=status, query=query),
        "status": status, "q": query, "statuses": ReturnStatus.choices, "error": error,
    }, partial="results", target="return-results", status=400 if error else 200)


def _render_detail(request: AuthenticatedRequest, pk: int, *, error: str = "",
                   notice: str = "", status: int = 200) -> HttpResponse:
    ret = get_or_404(return_selectors.return_detail, return_id=pk)
    user = request.user
    return render_partial(request, "orders/returns/detail.html", {
        "ret": ret, "order": ret.order, "lines": list(ret.lines.all()),
        "can_decide": ret.awaits_decision and user.has_perm("orders.decide_return"),
        "can_receive": ((ret.awaits_goods or ret.awaits_inspection)
                        and user.has_perm("orders.receive_return")),
        "can_settle": ret.awaits_settlement and user.has_perm("orders.settle_return"),
        "settlements": [(v, label) for v, label in Settlement.choices if v != Settlement.NONE],
        "exchange_rows": range(3),
        "error": error, "notice": notice,
    }, partial="panel", target="return-panel", status=status)


@require_GET
@permission_required("orders.view_return")
def return_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _render_detail(request, pk)


def _act(request: AuthenticatedRequest, pk: int, call, done: str) -> HttpResponse:
    get_or_404(return_selectors.return_detail, return_id=pk)
    try:
        call()
    except ApplicationError as exc:
        return _render_detail(request, pk, error=exc.text(), status=exc.status)
    if request.htmx:
        return _render_detail(request, pk, notice=done)
    messages.success(request, done)
    return redirect("orders:return_detail", pk)


@require_POST
@permission_required("orders.decide_return")
def approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: return_services.approve_return(
        return_id=pk, actor=request.user),
        _("Return approved; the customer is e-mailed the instructions and the label."))


@require_POST
@permission_required("orders.decide_return")
def refuse(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda: return_services.refuse_return(
        return_id=pk, actor=request.user, data=return_services.ReturnDecision.parse(
            {"reason": request.POST.get("reason", "")})), _("Return refused."))


@require_GET
@permission_required("orders.view_return")
def label_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    ret = get_or_404(return_selectors.return_detail, return_id=pk)
    response = HttpResponse(rma_label_pdf(return_id=pk), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{ret.number}.pdf"'
    return response


def posted_return_request(request: HttpRequest, order_id: int,
                    line_ids: list[int]) -> dict:
    """The form's fields as ReturnRequest data: lines with a quantity only."""
    post = request.POST
    lines = []
    for line_id in line_ids:
        quantity = post.get(f"quantity-{line_id}", "").strip()
        if quantity and quantity != "0":
            lines.append({"order_line_id": line_id, "quantity": quantity,
                          "reason": post.get(f"reason-{line_id}", "")})
    return {"order_id": order_id, "channel": post.get("channel", ""), "lines": lines,
            "override_reason": post.get("override_reason", ""), "note": post.get("note", "")}


@require_http_methods(["GET", "POST"])
@permission_required("orders.add_return")
def start_return(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Customer service opens a return for an order (phone, e-mail, store)."""
    order = get_or_404(selectors.get_order, order_id=pk)
    returnable = return_selectors.returnable_lines(order_id=pk)
    errors: dict[str, list[str]] = {}
    error = ""
    if request.method == "POST":
        data = posted_return_request(request, pk, [line.order_line_id for line in returnable.lines])
        try:
            if data["channel"] not in dict(STAFF_CHANNELS):
                msg = _("Choose how the customer asked: phone, e-mail or store.")
                raise ApplicationError(msg, field_errors={"channel": [msg]})
            ret = return_services.request_return(data=ReturnRequest.parse(data),
                                                 actor=request.user)
        except ApplicationError as exc:
            error, errors = exc.message, errors_by_line(exc.field_errors, data["lines"])
        else:
            messages.success(request, _("Return %(number)s opened.") % {"number": ret.number})
            return redirect("orders:return_detail", ret.pk)
    return render(request, "orders/returns/start.html", {
        "order": order, "returnable": returnable, "channels": STAFF_CHANNELS,
        "reasons": [(v, label) for v, label in ReturnReason.choices
                    if v != ReturnReason.RETURNED_TO_SENDER],
        "posted": request.POST, "errors": errors, "error": error,
    }, status=400 if error else 200)


def errors_by_line(field_errors: dict[str, list[str]], lines: list[dict]) -> dict[str, list[str]]:
    """`lines.<i>.<field>` errors keyed by the form's `<field>-<order line id>`."""
    named: dict[str, list[str]] = {}
    for key, messages_ in field_errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit() \
                and int(parts[1]) < len(lines):
            field = {"order_line_id": "quantity"}.get(parts[2] if len(parts) > 2 else "",
                                                      parts[2] if len(parts) > 2 else "quantity")
            named[f"{field}-{lines[int(parts[1])]['order_line_id']}"] = messages_
        else:
            named[key] = messages_
    return named
