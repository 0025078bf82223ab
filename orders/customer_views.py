"""The customer's order page, opened without login from the link in every
customer e-mail (`orders.links`). A wrong, tampered, expired or revoked
token answers the same 404; requests are counted per client address."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from customers.inputs import AddressInput
from oms.api import count_in_window
from oms.lib.auth import AuthenticatedRequest, client_ip, permission_required, public
from oms.lib.errors import ApplicationError
from orders.customer_documents import document_content, documents_of, shipments_of
from orders.links import order_for_token, revoke_order_links
from orders.models import EventKind, Order, OrderStatus
from orders.return_models import Return
from orders.selectors import address_requests_of
from orders.services import address_requests

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
    return _render_page(request, order, token)


def _render_page(request: HttpRequest, order: Order, token: str, *, status: int = 200,
                 address: dict | None = None, address_error: ApplicationError | None = None,
                 notice: str = "") -> HttpResponse:
    """The page in the customer's language and time zone; `address`: the
    address form as the customer typed it, with `address_error`'s messages."""
    customer = order.customer
    with translation.override(customer.preferred_language or settings.LANGUAGE_CODE), \
            timezone.override(customer.zone):
        labels = dict(OrderStatus.choices)
        events = [(event.created_at, labels.get(event.to_status, event.to_status))
                  for event in order.events.filter(kind__in=_CUSTOMER_EVENTS)
                  .exclude(to_status="").order_by("created_at", "id")]
        requests = address_requests_of(order)
        response = render(request, "orders/customer/page.html", {
            "order": order, "customer": customer, "lines": order.lines.all(),
            "events": events, "documents": documents_of(order), "token": token,
            "shipments": shipments_of(order),
            "returns": list(Return.objects.filter(order=order).order_by("created_at", "id")),
            "address_requests": requests,
            "may_ask_address": order.is_editable and not any(r.is_pending for r in requests),
            "address": address or order.shipping_address,
            "address_open": address is not None,
            "address_error": (str(address_error.message) if address_error else ""),
            "address_errors": address_error.field_errors if address_error else {},
            "notice": notice,
        }, status=status)
    response["X-Robots-Tag"] = "noindex"
    # The token in the address never reaches another site; same-origin (not
    # no-referrer) so the browser sends its Origin with the page's own form
    # and the CSRF check can pass.
    response["Referrer-Policy"] = "same-origin"
    return response


_ADDRESS_KEYS = ("name", "line1", "line2", "postal_code", "city", "region", "country")


@public
@never_cache
@require_POST
def request_address(request: HttpRequest, token: str) -> HttpResponse:
    """The customer asks to deliver elsewhere (before shipment); customer
    service decides. Errors come back on the page's form."""
    order = _order_or_none(request, token)
    if isinstance(order, HttpResponse):
        return order
    typed = {key: request.POST.get(key, "").strip() for key in _ADDRESS_KEYS}
    customer = order.customer
    with translation.override(customer.preferred_language or settings.LANGUAGE_CODE):
        try:
            address_requests.request_address_change(
                order_id=order.pk, data=AddressInput.parse(typed), actor=None)
        except ApplicationError as exc:
            order.refresh_from_db()
            return _render_page(request, order, token, status=exc.status, address=typed,
                                address_error=exc)
        notice = _("Thank you: our customer service will confirm the new delivery address "
                   "by e-mail.")
    return _render_page(request, order, token, notice=notice)


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
