"""The customer's order page, opened without login from the link in every
customer e-mail (`orders.links`). A wrong, tampered, expired or revoked
token answers the same 404; requests are counted per client address."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from oms.api import count_in_window
from oms.lib.auth import AuthenticatedRequest, client_ip, permission_required, public
from oms.lib.errors import ApplicationError
from oms.lib.validation import errors_onto_form
from orders.customer_documents import document_content, documents_of, shipments_of
from orders.feedback_models import OrderFeedback
from orders.forms import FeedbackForm
from orders.inputs import FeedbackInput
from orders.links import order_for_token, revoke_order_links
from orders.models import EventKind, Order, OrderStatus
from orders.return_models import Return
from orders.services.delivery import FEEDBACK_EDIT_WINDOW, may_give_feedback, submit_feedback

# What the customer sees of the timeline: no notes, no e-mails, no internal reasons.
_CUSTOMER_EVENTS = (EventKind.STATUS_CHANGED,)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/customer/not_found.html", status=404)


def _order_or_none(request: HttpRequest, token: str) -> Order | HttpResponse:
    """The token's order, or the 429 / 404 answer."""
    retry_after = count_in_window(f"order-page:{client_ip(request) or '-'}",
                                  settings.ORDER_PAGE_RATE_LIMIT_PER_MINUTE)
    if retry_after:
        response = render(request, "orders/customer/rate_limited.html", status=429)
        response["Retry-After"] = str(retry_after)
        return response
    order = order_for_token(token)
    return order if order is not None else _not_found(request)


@public
@never_cache
@require_GET
def document(request: HttpRequest, token: str, kind: str, pk: int) -> HttpResponse:
    """One of the order's invoices or credit notes as PDF; another order's
    document answers the same 404 as a bad token."""
    order = _order_or_none(request, token)
    if isinstance(order, HttpResponse):
        return order
    content = document_content(order, kind, pk)
    if content is None:
        return _not_found(request)
    name = next((doc.filename for doc in documents_of(order)
                 if doc.kind == kind and doc.pk == pk), "document.pdf")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Robots-Tag"] = "noindex"
    return response


@public
@never_cache
@require_GET
def order_page(request: HttpRequest, token: str) -> HttpResponse:
    order = _order_or_none(request, token)
    if isinstance(order, HttpResponse):
        return order
    return _page(request, order, token)


@public
@never_cache
@require_POST
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's rating of the delivered order: saved, then back to the
    page; bad input shows the page again with the field errors (400), an
    answer no longer allowed the reason (409). Counted like the page."""
    order = _order_or_none(request, token)
    if isinstance(order, HttpResponse):
        return order
    form = FeedbackForm(request.POST)
    language = order.customer.preferred_language or settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            submit_feedback(order_id=order.pk, data=FeedbackInput.parse(form.values()),
                            language=language, actor=None)
    except ApplicationError as error:
        with translation.override(language):
            errors_onto_form(form, error, summary=False)
            refusal = "" if error.field_errors else str(error.message)
        return _page(request, order, token, form=form, refusal=refusal, status=error.status)
    return redirect(reverse("customer_order_page", kwargs={"token": token}) + "#feedback")


def _page(request: HttpRequest, order: Order, token: str, *, form: FeedbackForm | None = None,
          refusal: str = "", status: int = 200) -> HttpResponse:
    customer = order.customer
    with translation.override(customer.preferred_language or settings.LANGUAGE_CODE), \
            timezone.override(customer.zone):
        labels = dict(OrderStatus.choices)
        events = [(event.created_at, labels.get(event.to_status, event.to_status))
                  for event in order.events.filter(kind__in=_CUSTOMER_EVENTS)
                  .exclude(to_status="").order_by("created_at", "id")]
        answer = OrderFeedback.objects.filter(order=order).first()
        may_answer = may_give_feedback(order, answer)
        if form is None and may_answer:
            form = FeedbackForm(initial={"rating": str(answer.rating), "comment": answer.comment}
                                if answer else None)
        response = render(request, "orders/customer/page.html", {
            "order": order, "customer": customer, "lines": order.lines.all(),
            "events": events, "documents": documents_of(order), "token": token,
            "shipments": shipments_of(order),
            "returns": list(Return.objects.filter(order=order).order_by("created_at", "id")),
            "feedback": answer, "feedback_form": form if may_answer else None,
            "feedback_refusal": refusal,
            "feedback_editable_until": (answer.submitted_at + FEEDBACK_EDIT_WINDOW
                                        if answer else None),
        }, status=status)
    response["X-Robots-Tag"] = "noindex"
    # The token never leaves the site in a Referer (tracking links), while
    # the page's own form still posts with its origin, which CSRF checks.
    response["Referrer-Policy"] = "same-origin"
    return response


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
