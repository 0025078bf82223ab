"""The customer's order page, opened without login from the link in every
customer e-mail (`orders.links`). A wrong, tampered, expired or revoked
token answers the same 404; requests are counted per client address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from customers.inputs import AddressInput
from customers.models import Customer
from oms.api import count_in_window
from oms.lib.auth import AuthenticatedRequest, client_ip, permission_required, public
from oms.lib.errors import ApplicationError
from oms.lib.validation import errors_onto_form
from orders import return_selectors
from orders.customer_documents import document_content, documents_of, shipments_of
from orders.feedback_models import OrderFeedback
from orders.forms import FeedbackForm
from orders.inputs import FeedbackInput, ReturnRequest
from orders.links import order_for_token, revoke_order_links
from orders.models import EventKind, Order, OrderStatus
from orders.return_models import Return, ReturnChannel, ReturnReason
from orders.return_selectors import Returnable, ReturnableLine
from orders.return_views import errors_by_line, posted_return_request
from orders.selectors import address_requests_of
from orders.services import address_requests
from orders.services.delivery import FEEDBACK_EDIT_WINDOW, may_give_feedback, submit_feedback
from orders.services.returns import request_return

# The token in the address never leaves the site; same-origin (not
# no-referrer) so the page's own forms send their Origin and pass CSRF.
REFERRER_POLICY = "same-origin"
# What the customer sees of the timeline: no notes, no e-mails, no internal reasons.
_CUSTOMER_EVENTS = (EventKind.STATUS_CHANGED,)
# The reasons a customer gives (the carrier's own is not one of them).
CUSTOMER_REASONS = [(value, label) for value, label in ReturnReason.choices
                    if value != ReturnReason.RETURNED_TO_SENDER]
CUSTOMER_REASON_VALUES = {value for value, _label in CUSTOMER_REASONS}


def not_found(request: HttpRequest) -> HttpResponse:
    """The one answer to a bad token and to another order's document or invoice."""
    return render(request, "orders/customer/not_found.html", status=404)


def order_or_refusal(request: HttpRequest, token: str) -> Order | HttpResponse:
    """The token's order, or the 429 / 404 answer. Every request of the
    page (GET or POST, here or in billing's views under the same token)
    counts against the client's rate limit."""
    retry_after = count_in_window(f"order-page:{client_ip(request) or '-'}",
                                  settings.ORDER_PAGE_RATE_LIMIT_PER_MINUTE)
    if retry_after:
        response = render(request, "orders/customer/rate_limited.html", status=429)
        response["Retry-After"] = str(retry_after)
        return response
    order = order_for_token(token)
    return order if order is not None else not_found(request)


@contextmanager
def customer_locale(customer: Customer) -> Iterator[None]:
    """The customer's language and time zone, for everything the page renders."""
    with translation.override(customer.preferred_language or settings.LANGUAGE_CODE), \
            timezone.override(customer.zone):
        yield


def posted_from_page(view: Callable[[HttpRequest, Order, str], HttpResponse]
                     ) -> Callable[[HttpRequest, str], HttpResponse]:
    """A form the customer posts from the order page: no login, never cached,
    POST only, counted by the page's rate limit; a bad token answers the
    page's 429 / 404 before `view` runs. `view(request, order, token)` runs
    in the customer's language and time zone."""

    @public
    @never_cache
    @require_POST
    @wraps(view)
    def posted(request: HttpRequest, token: str) -> HttpResponse:
        order = order_or_refusal(request, token)
        if isinstance(order, HttpResponse):
            return order
        with customer_locale(order.customer):
            return view(request, order, token)

    return posted


def _back_to_page(token: str, section: str) -> HttpResponse:
    """After a successful post: the page again (a GET), at the form's section."""
    return redirect(reverse("customer_order_page", kwargs={"token": token}) + f"#{section}")


@public
@never_cache
@require_GET
def document(request: HttpRequest, token: str, kind: str, pk: int) -> HttpResponse:
    """One of the order's invoices or credit notes as PDF; another order's
    document answers the same 404 as a bad token."""
    order = order_or_refusal(request, token)
    if isinstance(order, HttpResponse):
        return order
    content = document_content(order, kind, pk)
    if content is None:
        return not_found(request)
    name = next((doc.filename for doc in documents_of(order)
                 if doc.kind == kind and doc.pk == pk), "document.pdf")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Robots-Tag"] = "noindex"
    return response


@dataclass(frozen=True)
class _ReturnRow:
    """One returnable line of the return form, with what was posted and its errors."""

    line: ReturnableLine
    quantity: str
    reason: str
    errors: list[str]


def _return_form(returnable: Returnable, posted: QueryDict | None,
                 errors: dict[str, list[str]]) -> dict[str, object]:
    rows: list[_ReturnRow] = []
    shown: set[str] = set()
    for line in returnable.lines:
        if not line.returnable:
            continue
        keys = (f"quantity-{line.order_line_id}", f"reason-{line.order_line_id}")
        shown.update(keys)
        rows.append(_ReturnRow(line, posted.get(keys[0], "") if posted else "",
                               posted.get(keys[1], "") if posted else "",
                               [m for key in keys for m in errors.get(key, [])]))
    return {"return_rows": rows, "posted": posted or {},
            "other_errors": [m for key, messages_ in errors.items() if key not in shown
                             for m in messages_]}


def _render_page(request: HttpRequest, order: Order, token: str, *, status: int = 200,
                 posted: QueryDict | None = None, error: str = "",
                 errors: dict[str, list[str]] | None = None, address: dict | None = None,
                 address_error: ApplicationError | None = None, notice: str = "",
                 feedback_form: FeedbackForm | None = None,
                 feedback_refusal: str = "") -> HttpResponse:
    """The page in the customer's language and time zone. `posted`, `error`
    and `errors`: the return form as sent, with its messages; `address`: the
    address form as the customer typed it, with `address_error`'s messages;
    `feedback_form`: the rating form as sent, with its errors."""
    customer = order.customer
    returnable = return_selectors.returnable_lines(order_id=order.pk)
    with customer_locale(customer):
        labels = dict(OrderStatus.choices)
        events = [(event.created_at, labels.get(event.to_status, event.to_status))
                  for event in order.events.filter(kind__in=_CUSTOMER_EVENTS)
                  .exclude(to_status="").order_by("created_at", "id")]
        requests = address_requests_of(order)
        answer = OrderFeedback.objects.filter(order=order).first()
        may_answer = may_give_feedback(order, answer)
        if feedback_form is None and may_answer:
            feedback_form = FeedbackForm(initial={"rating": str(answer.rating),
                                                  "comment": answer.comment}
                                         if answer else None)
        response = render(request, "orders/customer/page.html", {
            "order": order, "customer": customer, "lines": order.lines.all(),
            "events": events, "documents": documents_of(order), "token": token,
            "shipments": shipments_of(order),
            "returns": list(Return.objects.filter(order=order).order_by("created_at", "id")
                            .prefetch_related("lines__order_line")),
            "returnable": returnable, "reasons": CUSTOMER_REASONS,
            "window_days": settings.RETURN_WINDOW_DAYS, "error": error,
            **_return_form(returnable, posted, errors or {}),
            "address_requests": requests,
            "may_ask_address": order.is_editable and not any(r.is_pending for r in requests),
            "address": address or order.shipping_address,
            "address_open": address is not None,
            "address_error": (str(address_error.message) if address_error else ""),
            "address_errors": address_error.field_errors if address_error else {},
            "notice": notice,
            "feedback": answer, "feedback_form": feedback_form if may_answer else None,
            "feedback_refusal": feedback_refusal,
            "feedback_editable_until": (answer.submitted_at + FEEDBACK_EDIT_WINDOW
                                        if answer else None),
        }, status=status)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = REFERRER_POLICY
    return response


@public
@never_cache
@require_GET
def order_page(request: HttpRequest, token: str) -> HttpResponse:
    order = order_or_refusal(request, token)
    if isinstance(order, HttpResponse):
        return order
    return _render_page(request, order, token)


def _posted_line_ids(request: HttpRequest, known: list[int]) -> list[int]:
    """The order's returnable lines, then any other line the form names (a
    tampered form): the service refuses those with a field error."""
    named = [int(key.removeprefix("quantity-")) for key in request.POST
             if key.startswith("quantity-") and key.removeprefix("quantity-").isdigit()]
    return known + sorted(set(named) - set(known))


@posted_from_page
def start_return(request: HttpRequest, order: Order, token: str) -> HttpResponse:
    """The customer asks to return shipped units; customer service approves.
    Bad input shows the page again with the errors on the lines (400)."""
    returnable = return_selectors.returnable_lines(order_id=order.pk)
    data = posted_return_request(
        request, order.pk, _posted_line_ids(request, [line.order_line_id
                                                       for line in returnable.lines]))
    data.update(channel=ReturnChannel.WEB, override_reason="")
    try:
        if any(line["reason"] not in CUSTOMER_REASON_VALUES for line in data["lines"]):
            msg = _("Choose a reason for each item you return.")
            raise ApplicationError(str(ReturnRequest.error_message), field_errors={
                f"lines.{index}.reason": [msg] for index, line in enumerate(data["lines"])
                if line["reason"] not in CUSTOMER_REASON_VALUES})
        ret = request_return(data=ReturnRequest.parse(data), actor=None)
    except ApplicationError as exc:
        return _render_page(request, order, token, status=400, posted=request.POST,
                            error=exc.message,
                            errors=errors_by_line(exc.field_errors, data["lines"]))
    messages.success(request, _("Return %(number)s requested. We will e-mail you the "
                                "return instructions and label once we approve it.")
                     % {"number": ret.number})
    return _back_to_page(token, "returns")


@posted_from_page
def feedback(request: HttpRequest, order: Order, token: str) -> HttpResponse:
    """The customer's rating of the delivered order: saved, then back to the
    page; bad input shows the page again with the field errors (400), an
    answer no longer allowed the reason (409)."""
    form = FeedbackForm(request.POST)
    language = order.customer.preferred_language or settings.LANGUAGE_CODE
    try:
        submit_feedback(order_id=order.pk, data=FeedbackInput.parse(form.values()),
                        language=language, actor=None)
    except ApplicationError as exc:
        errors_onto_form(form, exc, summary=False)
        refusal = "" if exc.field_errors else str(exc.message)
        return _render_page(request, order, token, feedback_form=form,
                            feedback_refusal=refusal, status=exc.status)
    return _back_to_page(token, "feedback")


_ADDRESS_KEYS = ("name", "line1", "line2", "postal_code", "city", "region", "country")


@posted_from_page
def request_address(request: HttpRequest, order: Order, token: str) -> HttpResponse:
    """The customer asks to deliver elsewhere (before shipment); customer
    service decides. Errors come back on the page's form."""
    typed = {key: request.POST.get(key, "").strip() for key in _ADDRESS_KEYS}
    try:
        address_requests.request_address_change(
            order_id=order.pk, data=AddressInput.parse(typed), actor=None)
    except ApplicationError as exc:
        order.refresh_from_db()
        return _render_page(request, order, token, status=exc.status, address=typed,
                            address_error=exc)
    return _render_page(request, order, token, notice=_(
        "Thank you: our customer service will confirm the new delivery address by e-mail."))


@require_POST
@permission_required("orders.change_order")
def revoke_link(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Revoke the order's customer link; the next e-mail carries a new one."""
    if revoke_order_links(order_id=pk, actor=request.user):
        messages.success(request, _("The customer's link was revoked; the next e-mail "
                                    "carries a new one."))
    else:
        messages.info(request, _("The order has no live customer link."))
    return redirect("orders:detail", pk=pk)
