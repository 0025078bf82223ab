"""Back-office views of the orders app: the order list and the order detail
with one POST URL per action, order entry and the CSV import. Thin: parse,
call a selector or a service, render.

Entry is one page: pick or create the customer (search as you type), add
lines (product search as you type) with live availability and totals from
the server; every htmx request renders a partial of `orders/entry.html`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.models import Customer
from oms.lib import bulk
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.htmx import render_partial
from oms.lib.http import get_or_404
from oms.lib.paging import parse_page
from oms.lib.progress import state_for
from oms.lib.submissions import AlreadySubmitted, submission_key_of
from oms.lib.validation import errors_onto_form
from orders import entry_selectors, imports, selectors, services, work_queue
from orders.capture import capture_order
from orders.forms import EntryForm, ImportForm
from orders.inputs import CaptureOrder, OrderChange, PlaceOrder, TemplateName
from orders.links import live_link
from orders.models import (
    AddressChangeRequest,
    Channel,
    HoldReason,
    Order,
    OrderStatus,
    PaymentMethod,
)
from orders.services import address_requests
from orders.services.change_plan import ChangePlan

IMPORT_SALT = "orders.import"

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
               "statuses": OrderStatus.choices, "channels": Channel.choices,
               "bulk_actions": bulk.actions_for(work_queue.ORDERS, request.user)}
    return render_partial(request, "orders/order_list.html", context, partial="results",
                          target="order-results")


@require_POST
@permission_required("orders.view_order")
def bulk_action(request: AuthenticatedRequest) -> HttpResponse:
    """Run one action on the selected orders (the list's or the work queue's
    checkboxes): each order on its own, then a report of every row. Bad input
    (nothing selected, too many, unknown ids, an action the role may not do)
    changes nothing and says why."""
    post = request.POST
    back = reverse("work_queue") if post.get("back") == "queue" else reverse("orders:list")
    action = post.get("action", "")
    context: dict = {"back": back, "outcomes": [], "error": ""}
    try:
        context["outcomes"] = bulk.run(work_queue.ORDERS, action, post.getlist("ids"),
                                       user=request.user,
                                       params={"reason": post.get("reason", "")})
    except ApplicationError as refused:
        context["error"] = refused.message
        return render(request, "orders/bulk_report.html", context, status=refused.status)
    context["action"] = next((item.label for item in bulk.actions_for(work_queue.ORDERS,
                                                                       request.user)
                              if item.name == action), action)
    context["succeeded"] = sum(outcome.ok for outcome in context["outcomes"])
    context["failed"] = len(context["outcomes"]) - context["succeeded"]
    return render(request, "orders/bulk_report.html", context)


def _render_detail(request: AuthenticatedRequest, order_id: int, *, error: str = "",
                   notice: str = "", status: int = 200) -> HttpResponse:
    detail = get_or_404(selectors.order_detail, order_id=order_id)
    context = {
        "detail": detail, "order": detail.order,
        "actions": [(name, *ACTIONS[name])
                    for name in available_actions(detail.order, request.user)],
        "can_note": request.user.has_perm("orders.add_note"),
        "can_cancel_rest": (detail.order.may_cancel_waiting
                            and request.user.has_perm("orders.cancel_order")),
        "can_edit": (detail.order.is_editable
                     and request.user.has_perm("orders.change_order")),
        "can_save_template": request.user.has_perm("orders.add_ordertemplate"),
        "hold_reasons": HoldReason.choices, "error": error, "notice": notice,
        "customer_link": (live_link(order_id) if request.user.has_perm("orders.change_order")
                          else None),
        "address_requests": selectors.address_requests_of(detail.order),
        "can_decide_address": request.user.has_perm("orders.change_order"),
    }
    return render_partial(request, "orders/order_detail.html", context, partial="panel",
                          target="order-panel", status=status)


@require_GET
@permission_required("orders.view_order")
def order_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _render_detail(request, pk)


def _act(request: AuthenticatedRequest, pk: int, call: Callable[[], object],
         done: str) -> HttpResponse:
    """Run one service call for the order and answer with its panel (a refusal:
    with its message and the service's status, 409 for an illegal transition)."""
    get_or_404(selectors.get_order, order_id=pk)
    try:
        call()
    except ApplicationError as exc:
        return _render_detail(request, pk, error=exc.text(), status=exc.status)
    if request.htmx:
        return _render_detail(request, pk, notice=done)
    messages.success(request, done)
    return redirect("orders:detail", pk)


def _action(permission: str, done: str | Promise,
            call: Callable[[AuthenticatedRequest, int], object]
            ) -> Callable[[AuthenticatedRequest, int], HttpResponse]:
    """A POST view that runs `call(request, pk)` through `_act`."""

    @require_POST
    @permission_required(permission)
    def view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
        return _act(request, pk, lambda: call(request, pk), str(done))

    return view


place = _action("orders.place_order", gettext_lazy("Order placed."),
                lambda request, pk: services.place_draft(
                    order=selectors.get_order(order_id=pk), payment=None, actor=request.user))
approve = _action("orders.approve_order", gettext_lazy("Order approved."),
                  lambda request, pk: services.approve_order(
                      order_id=pk, actor=request.user, reason=request.POST.get("reason", "")))
allocate = _action("orders.approve_order", gettext_lazy("Stock allocated."),
                   lambda request, pk: services.allocate_backorder(order_id=pk,
                                                                   actor=request.user))
hold = _action("orders.approve_order", gettext_lazy("Order put on hold."),
               lambda request, pk: services.hold_order(
                   order_id=pk, reason_code=request.POST.get("reason_code", ""),
                   reason_text=request.POST.get("reason_text", ""), actor=request.user))
reject = _action("orders.approve_order", gettext_lazy("Order rejected."),
                 lambda request, pk: services.reject_order(
                     order_id=pk, actor=request.user, reason=request.POST.get("reason", "")))
cancel = _action("orders.cancel_order", gettext_lazy("Order cancelled."),
                 lambda request, pk: services.cancel_order(
                     order_id=pk, actor=request.user, reason=request.POST.get("reason", "")))


@require_POST
@permission_required("orders.cancel_order")
def cancel_rest(request: AuthenticatedRequest, pk: int, line_id: int) -> HttpResponse:
    """Cancel the backordered rest of one line (the customer is e-mailed)."""
    return _act(request, pk, lambda: services.cancel_backordered_rest(
        order_id=pk, line_id=line_id, actor=request.user,
        reason=request.POST.get("reason", "")), str(_("Backordered rest cancelled.")))


@require_POST
@permission_required("orders.change_order")
def cancel_remaining(request: AuthenticatedRequest, pk: int, line_id: int) -> HttpResponse:
    """Cancel every unit of one line not yet picked or shipped (partial cancel)."""
    return _act(request, pk, lambda: services.cancel_line_rest(
        order_id=pk, line_id=line_id, actor=request.user,
        version=request.POST.get("version", "")), str(_("Remaining units cancelled.")))


@require_POST
@permission_required("orders.change_order")
def accept_address(request: AuthenticatedRequest, pk: int, request_id: int) -> HttpResponse:
    """Customer service accepts the customer's new delivery address."""
    get_or_404(AddressChangeRequest.objects.filter(order_id=pk).get, pk=request_id)
    return _act(request, pk, lambda: address_requests.accept_address_change(
        request_id=request_id, actor=request.user),
        str(_("New delivery address accepted; the customer is e-mailed the change.")))


@require_POST
@permission_required("orders.change_order")
def refuse_address(request: AuthenticatedRequest, pk: int, request_id: int) -> HttpResponse:
    """Customer service refuses it; the customer is e-mailed the reason."""
    get_or_404(AddressChangeRequest.objects.filter(order_id=pk).get, pk=request_id)
    return _act(request, pk, lambda: address_requests.refuse_address_change(
        request_id=request_id, actor=request.user,
        data=address_requests.AddressRefusal.parse({"reason": request.POST.get("reason", "")})),
        str(_("Address change refused; the customer is e-mailed the reason.")))


@permission_required("orders.add_ordertemplate")
def save_template(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Save the order's lines as a named template of its customer, then show
    it on the customer card."""
    order = get_or_404(selectors.get_order, order_id=pk)
    try:
        template = services.save_template_from_order(
            order_id=pk, data=TemplateName.parse({"name": request.POST.get("name", "")}),
            actor=request.user)
    except ApplicationError as exc:
        details = [m for messages_ in exc.field_errors.values() for m in messages_]
        error = " ".join([exc.message, *details]) if details and details != [exc.message] \
            else exc.message
        return _render_detail(request, pk, error=error, status=exc.status)
    messages.success(request, _("Template %(name)s saved.") % {"name": template.name})
    return redirect(f"{reverse('customers:detail', args=[order.customer_id])}#templates-title")


# --- changing an order before it ships ---------------------------------------------

_ADDRESS_KEYS = ("name", "line1", "line2", "postal_code", "city", "region", "country")


def _posted_change(request: HttpRequest, order: Order) -> dict:
    """The edit form as an `OrderChange` mapping. Inputs are named by the
    input's paths (`lines.0.quantity`, `shipping_address.city`), so a field
    error lands on the input of the same name. Blank new rows are left out;
    the promised date only when it changed (an old one may be past)."""
    post = request.POST
    lines = []
    index = 0
    while f"lines.{index}.quantity" in post or f"lines.{index}.sku" in post:
        line = post.get(f"lines.{index}.line", "")
        sku = post.get(f"lines.{index}.sku", "").strip()
        quantity = post.get(f"lines.{index}.quantity", "").strip()
        if line or sku or quantity:
            lines.append({"line": line or None, "sku": sku, "quantity": quantity})
        index += 1
    data: dict = {"version": post.get("version", ""), "lines": lines}
    for name in ("shipping_address", "billing_address"):
        if f"{name}.line1" in post:
            data[name] = {key: post.get(f"{name}.{key}", "") for key in _ADDRESS_KEYS}
    for name in ("requested_carrier", "notes"):
        if name in post:
            data[name] = post[name]
    promised = post.get("promised_delivery_date", "").strip()
    current = order.promised_delivery_date.isoformat() if order.promised_delivery_date else ""
    if promised != current:
        data["promised_delivery_date"] = promised
    return data


def _render_edit(request: AuthenticatedRequest, order: Order, *, data: dict | None = None,
                 plan: ChangePlan | None = None, error: ApplicationError | None = None,
                 status: int = 200) -> HttpResponse:
    lines = list(order.lines.order_by("position"))
    posted = data or {}
    rows = [{"line": line, "quantity": next(
        (c["quantity"] for c in posted.get("lines", []) if str(c.get("line")) == str(line.pk)),
        line.quantity - line.cancelled_quantity)} for line in lines]
    planned = {p.line.pk: p for p in plan.lines if p.line} if plan else {}
    for row, line in zip(rows, lines, strict=True):  # picked units hold the line up
        line_plan = planned.get(line.pk)
        row["picked"] = line_plan.picked if line_plan else 0
        row["unpick_from"] = line_plan.unpick_from if line_plan else ()
    new_rows = [dict(c) for c in posted.get("lines", []) if not c.get("line")]
    new_rows += [{"sku": "", "quantity": ""} for _blank in range(max(3 - len(new_rows), 1))]
    field_errors = error.field_errors if error else {}
    for index, row in enumerate(rows + new_rows):
        row["errors"] = [message for path, messages_ in field_errors.items()
                         if path.startswith(f"lines.{index}.") for message in messages_]
    context = {
        "order": order, "rows": rows, "new_rows": new_rows, "first_new": len(rows),
        "errors": field_errors,
        "address_errors": {prefix: {path.removeprefix(f"{prefix}."): messages_
                                    for path, messages_ in field_errors.items()
                                    if path.startswith(f"{prefix}.")}
                           for prefix in ("shipping_address", "billing_address")},
        "shipping": posted.get("shipping_address") or order.shipping_address,
        "billing": posted.get("billing_address") or order.billing_address,
        "requested_carrier": posted.get("requested_carrier", order.requested_carrier),
        "promised": posted.get("promised_delivery_date", order.promised_delivery_date.isoformat()
                               if order.promised_delivery_date else ""),
        "notes": posted.get("notes", order.notes),
        "plan": plan, "version": plan.version if plan else posted.get("version", ""),
        "error": error,
    }
    return render_partial(request, "orders/order_edit.html", context, partial="effect",
                          target="change-effect", status=status)


def _plan(request: AuthenticatedRequest, order: Order, data: dict) -> ChangePlan:
    return services.preview_order_change(order_id=order.pk, data=OrderChange.parse(data),
                                         actor=request.user)


@require_GET
@permission_required("orders.change_order")
def order_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The edit screen: the order's lines, addresses, carrier, date and notes
    as inputs, and the effect of the change so far (htmx preview)."""
    order = get_or_404(selectors.get_order, order_id=pk)
    try:
        plan = _plan(request, order, {})
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("orders:detail", pk)
    return _render_edit(request, order, plan=plan)


@require_POST
@permission_required("orders.change_order")
def order_edit_preview(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The effect of the change as typed so far (writes nothing)."""
    order = get_or_404(selectors.get_order, order_id=pk)
    data = _posted_change(request, order)
    try:
        plan = _plan(request, order, data)
    except ApplicationError as exc:
        return _render_edit(request, order, data=data, error=exc)
    return _render_edit(request, order, data=data, plan=plan)


@require_POST
@permission_required("orders.change_order")
def order_edit_save(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Apply the change the preview showed; refused (409) when the order
    moved on since (a pick, a shipment, another edit)."""
    order = get_or_404(selectors.get_order, order_id=pk)
    data = _posted_change(request, order)
    try:
        services.change_order(order_id=pk, data=OrderChange.parse(data), actor=request.user)
    except ApplicationError as exc:
        order = get_or_404(selectors.get_order, order_id=pk)
        plan = None
        if exc.status == 409:  # show the effect on the order as it is now
            try:
                plan = _plan(request, order, {**data, "version": ""})
            except ApplicationError:
                plan = None
        return _render_edit(request, order, data={**data, "version": plan.version}
                            if plan else data, plan=plan, error=exc,
                            status=exc.status if exc.status != 400 else 422)
    messages.success(request, _("Order %(number)s changed; the customer is told.")
                     % {"number": order.number})
    return redirect("orders:detail", pk)


note = _action("orders.add_note", gettext_lazy("Note added."),
               lambda request, pk: services.add_note(
                   order_id=pk, text=request.POST.get("text", ""), actor=request.user))


# --- order entry -----------------------------------------------------------------

def _posted_lines(request: HttpRequest) -> tuple[list[str], list[str], list[str]]:
    skus = request.POST.getlist("line_sku")
    quantities = request.POST.getlist("line_qty")
    discounts = request.POST.getlist("line_discount")
    remove = request.POST.get("remove")
    if remove is not None and remove.isdigit() and int(remove) < len(skus):
        index = int(remove)
        skus = skus[:index] + skus[index + 1:]
        quantities = quantities[:index] + quantities[index + 1:]
        discounts = discounts[:index] + discounts[index + 1:]
    add = request.POST.get("add_sku", "").strip()
    if add:
        if add in skus:  # adding a product twice adds to its quantity
            index = skus.index(add)
            current = quantities[index] if index < len(quantities) else "0"
            if current.isdigit():
                quantities[index] = str(int(current) + 1)
        else:
            skus.append(add)
            quantities = quantities[:len(skus) - 1] + ["1"]
            discounts = discounts[:len(skus) - 1] + [""]
    return skus, quantities, discounts


def _currency(value: str | None) -> str:
    return value if value and value in settings.CURRENCIES else str(settings.DEFAULT_CURRENCY)


def _render_entry(request: HttpRequest, form: EntryForm, entry_lines: entry_selectors.EntryLines,
                  *, status: int = 200, error: str = "") -> HttpResponse:
    customer = (entry_selectors.entry_customer(form.data.get("customer")) if form.is_bound
                else form.initial.get("customer"))
    return render(request, "orders/entry.html", {
        "form": form, "entry": entry_lines, "customer": customer, "error": error,
        "currency": _currency(form.data.get("currency") if form.is_bound else None),
        "can_place": request.user.has_perm("orders.place_order"),
        "can_save_template": request.user.has_perm("orders.add_ordertemplate"),
    }, status=status)


@require_GET
@permission_required("orders.add_order")
def entry(request: HttpRequest) -> HttpResponse:
    """A new order; `?customer=` for a customer, `?reorder=` to repeat a past
    order (its customer and lines, at today's prices)."""
    reorder = entry_selectors.reorder_source(request.GET.get("reorder"))
    if request.GET.get("reorder") and reorder is None:
        raise Http404
    customer = (reorder.order.customer if reorder is not None
                else entry_selectors.entry_customer(request.GET.get("customer")))
    initial = _customer_initial(customer) if customer is not None else {}
    lines = (entry_selectors.entry_lines(reorder.skus, reorder.quantities, customer=customer,
                                         currency=reorder.order.currency) if reorder is not None
             else entry_selectors.EntryLines(lines=[]))
    if reorder is not None:
        initial["notes"] = _("Re-order of %(number)s.") % {"number": reorder.order.number}
    return _render_entry(request, EntryForm(initial=initial), lines)


def _customer_initial(customer: Customer) -> dict:
    initial: dict = {"customer": customer}
    address = customer.default_address("shipping") or customer.default_address("billing")
    if address is not None:
        initial.update({f"shipping_address.{name}": value
                        for name, value in address.as_snapshot().items()})
    else:
        initial["shipping_address.name"] = customer.name
    if customer.payment_preference in PaymentMethod.values:
        initial["payment.method"] = customer.payment_preference
    return initial


@require_GET
@permission_required("orders.add_order")
def customer_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("customer_q", "").strip()
    return render(request, "orders/entry.html#customer_results",
                  {"customers": entry_selectors.entry_customer_results(query), "query": query})


@require_GET
@permission_required("orders.add_order")
def customer_pick(request: HttpRequest) -> HttpResponse:
    """The customer block with the chosen customer and its shipping address;
    `?customer=` empty switches to entering a new customer."""
    customer = None
    if request.GET.get("customer", ""):
        customer = entry_selectors.entry_customer(request.GET["customer"])
        if customer is None:
            raise Http404
    form = EntryForm(initial=_customer_initial(customer) if customer else {})
    return render(request, "orders/entry.html#customer_block",
                  {"form": form, "customer": customer, "picked": True})


@require_GET
@permission_required("orders.add_order")
def product_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("product_q", "").strip()
    return render(request, "orders/entry.html#product_results",
                  {"results": entry_selectors.entry_product_results(query), "query": query})


def _entry_lines(request: AuthenticatedRequest, skus: list[str], quantities: list[str],
                 discounts: list[str]) -> entry_selectors.EntryLines:
    """The posted lines priced for the posted customer (a new one: the
    catalogue default) and currency, at its VAT, figured as placement
    figures them (discounts, code, shipping charge)."""
    return entry_selectors.entry_lines(
        skus, quantities, discounts,
        customer=entry_selectors.entry_customer(request.POST.get("customer")),
        currency=_currency(request.POST.get("currency")),
        buyer=entry_selectors.entry_buyer(request.POST),
        terms=entry_selectors.EntryTerms(discount=request.POST.get("discount", "")[:20],
                                         code=request.POST.get("discount_code", "")[:40],
                                         actor=request.user))


@require_POST
@permission_required("orders.add_order")
def entry_lines_partial(request: AuthenticatedRequest) -> HttpResponse:
    """Recompute the lines table (add, remove, change quantity): live
    availability and totals, nothing written."""
    skus, quantities, discounts = _posted_lines(request)
    return render(request, "orders/entry.html#lines",
                  {"entry": _entry_lines(request, skus, quantities, discounts),
                   "currency": _currency(request.POST.get("currency")),
                   "added": bool(request.POST.get("add_sku")), "live": True})


@require_POST
@sensitive_post_parameters("payment.card_number")
@never_cache  # the answer may carry the form the card number was typed into
@permission_required("orders.add_order")
def entry_save(request: AuthenticatedRequest) -> HttpResponse:
    """Save as draft (`action=draft`) or place (`action=place`)."""
    action = request.POST.get("action", "place")
    if action not in {"draft", "place"}:
        action = "place"
    if action == "place" and not request.user.has_perm("orders.place_order"):
        raise PermissionDenied
    form = EntryForm(request.POST)
    skus, quantities, discounts = _posted_lines(request)
    entry_lines = _entry_lines(request, skus, quantities, discounts)
    error = ""
    if not entry_lines.lines:
        error = _("Add at least one line.")
    elif entry_lines.has_errors:
        error = _("Some lines have errors.")
    if not form.is_valid() or error:
        # Field errors are listed by the form's own summary; `error` is for the lines.
        return _render_entry(request, form, entry_lines, status=422, error=error)
    data = form.input_data([(line.sku, line.quantity, line.discount_raw or None)
                            for line in entry_lines.lines])
    draft = action == "draft"
    key = form.cleaned_data["submission_key"]
    try:
        if form.cleaned_data["customer"] is not None:
            order = services.place_order(PlaceOrder.parse(data), actor=request.user, draft=draft,
                                         submission_key=key)
        else:
            order = capture_order(CaptureOrder.parse(data), actor=request.user, draft=draft,
                                  submission_key=key)
    except AlreadySubmitted as exc:
        # A double submit: show the order the first one made.
        earlier = selectors.get_order(order_id=exc.result_id) if exc.result_id else None
        if earlier is None:
            messages.warning(request, exc.message)
            return redirect("orders:entry")
        messages.warning(request, _("Order %(number)s was already saved from this form; no "
                                    "second order was made.") % {"number": earlier.number})
        return redirect("orders:detail", pk=earlier.pk)
    except ApplicationError as exc:
        errors_onto_form(form, exc, summary=False)
        return _render_entry(request, form, entry_lines, status=exc.status if
                             exc.status != 400 else 422, error=exc.message)
    done = _("Draft %(number)s saved.") if draft else _("Order %(number)s placed.")
    messages.success(request, done % {"number": order.number})
    return redirect("orders:detail", pk=order.pk)


# --- CSV import ---------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@permission_required("orders.import_orders")
def import_upload(request: AuthenticatedRequest) -> HttpResponse:
    """Upload, then preview: per-row errors, or the orders about to be made."""
    if request.method == "GET":
        key = request.GET.get("job", "")[:64]
        return _import_page(request, form=ImportForm(), key=key,
                            job=state_for(key, user_id=request.user.pk) if key else None)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, status=422, form=form)
    content = form.cleaned_data["file"].read()
    try:
        preview = imports.check(content, actor=request.user)
    except ApplicationError as exc:
        form.add_error("file", exc.message)
        return _import_page(request, status=422, form=form)
    context = {"form": ImportForm(), "preview": preview, "filename": form.cleaned_data["file"].name}
    if not preview.is_clean:
        return _import_page(request, status=422, **context)
    ticket = signing.dumps({"file": imports.store_upload(content), "user": request.user.pk},
                           salt=IMPORT_SALT)
    return _import_page(request, **context, ticket=ticket)


@require_POST
@permission_required("orders.import_orders", "orders.place_order")
def import_confirm(request: AuthenticatedRequest) -> HttpResponse:
    """Import the previewed file: every order or none."""
    try:
        ticket = signing.loads(request.POST.get("ticket", ""), salt=IMPORT_SALT,
                               max_age=imports.TICKET_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, _("The import expired or was tampered with; upload again."))
        return redirect("orders:import")
    if ticket.get("user") != request.user.pk:
        raise PermissionDenied
    try:
        # The signed ticket is new on every preview: it is the form's one-time key.
        progress = imports.start_import(
            upload=ticket["file"], actor=request.user, label=_("Importing orders"),
            submission_key=submission_key_of(request.POST.get("ticket", "")))
    except AlreadySubmitted:
        messages.warning(request, _("This import was already confirmed; nothing was imported "
                                    "again."))
        return redirect("orders:import")
    return redirect(reverse("orders:import") + f"?job={progress.key}")


def _import_page(request: HttpRequest, *, status: int = 200, **context) -> HttpResponse:
    """The import page, with the file's column documentation."""
    columns = [(name, name in imports.REQUIRED_COLUMNS) for name in imports.COLUMNS]
    return render(request, "orders/import.html", {**context, "columns": columns},
                  status=status)
