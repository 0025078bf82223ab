"""The customer pays an open invoice from the order's page (`/o/<token>/`),
without login: the page's signed token is the credential, checked and rate
limited by `orders.customer_views`. Another order's invoice, or a wrong,
expired or revoked token, answers the page's one 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from billing import selectors, services
from billing.forms import CardForm
from billing.models import Invoice
from billing.providers import PaymentError
from billing.services.card_payment import InvoiceNotFound, pay_invoice_by_card
from oms.lib.auth import public
from oms.lib.errors import ApplicationError
from oms.lib.submissions import AlreadySubmitted
from orders.customer_views import (
    REFERRER_POLICY,
    customer_locale,
    not_found,
    order_or_refusal,
)
from orders.models import Order

TEMPLATE = "billing/customer_pay.html"


def _page(request: HttpRequest, order: Order, invoice: Invoice, token: str, *,
          status: int = 200, **context: object) -> HttpResponse:
    response = render(request, TEMPLATE, {"order": order, "invoice": invoice, "token": token,
                                          **context}, status=status)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = REFERRER_POLICY
    return response


@require_http_methods(["GET", "POST"])
@never_cache  # the page carries a payment form and a bearer token in its URL
@sensitive_post_parameters("card_number", "cvc")
@public
def pay_invoice(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    order = order_or_refusal(request, token)
    if isinstance(order, HttpResponse):
        return order
    invoice = selectors.invoice_of_order(order_id=order.pk, invoice_id=pk)
    if invoice is None:
        return not_found(request)
    with customer_locale(order.customer):
        if request.method != "POST":
            if invoice.is_settled:
                return _page(request, order, invoice, token, settled=True)
            form = CardForm(initial={"attempt_key": services.new_attempt_key()})
            return _page(request, order, invoice, token, form=form)
        form = CardForm(request.POST)
        if form.is_valid():
            try:
                paid = pay_invoice_by_card(
                    order_id=order.pk, invoice_id=invoice.pk,
                    card_number=form.cleaned_data["card_number"],
                    attempt_key=form.cleaned_data["attempt_key"])
            except AlreadySubmitted as exc:
                earlier = selectors.invoice_payment(invoice_id=invoice.pk,
                                                    payment_id=exc.result_id)
                if earlier is not None:  # a double submit: the first one's answer
                    invoice.refresh_from_db()
                    return _page(request, order, invoice, token, record=earlier)
                form.add_error(None, exc.message)
            except InvoiceNotFound:
                return not_found(request)
            except PaymentError as exc:
                form.add_payment_error(exc)
            except ApplicationError as exc:
                invoice.refresh_from_db()
                return _page(request, order, invoice, token, error=exc.message,
                             settled=invoice.is_settled, status=exc.status)
            else:
                if paid.record is not None:
                    invoice.refresh_from_db()
                    return _page(request, order, invoice, token, record=paid.record)
                form.add_error(None, paid.result.message or _("The card was not accepted."))
        form.renew_attempt(services.new_attempt_key())
        return _page(request, order, invoice, token, form=form, status=400)
