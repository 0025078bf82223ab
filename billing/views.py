"""Views of billing: the approval queue, the customer's card page, and
Accounting's invoices, payments, credit notes and receivables.

The forms that write money (record a payment, apply the customer's credit,
issue a credit note) carry a one-time key: a replayed or doubled POST writes
nothing and answers with the invoice page, saying what the first one did.

The queue is for Sales and Accounting (`orders.approve_order`); each decision
is one POST URL answering with the row's partial for htmx. Orders held for
credit or a missing prepayment are released by Accounting or a manager only
(`orders.release_credit_hold`, checked by `orders.services.approve_order`):
the others see no Approve button on them. The card page is
public on purpose: the signed, expiring token in its URL is the credential.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from billing import selectors, services
from billing.forms import CardForm, CreditNoteForm, DecisionForm, InvoicePaymentForm
from billing.models import Invoice
from billing.providers import PaymentError
from billing.services import returns as return_settlement
from oms.lib.auth import AuthenticatedRequest, permission_required, public
from oms.lib.errors import ApplicationError
from oms.lib.forms import SubmissionForm
from oms.lib.htmx import render_partial
from oms.lib.http import get_or_404
from oms.lib.money import format_money
from oms.lib.paging import parse_page
from oms.lib.submissions import AlreadySubmitted
from oms.lib.validation import errors_onto_form
from orders import selectors as order_selectors
from orders.models import RELEASE_CREDIT_HOLD, Order

QUEUE_PAGE_SIZE = 25


@require_GET
@permission_required("orders.approve_order")
def approval_queue(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(selectors.approval_queue(), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page"))
    context = {"page": page, "orders": page.object_list,
               "can_release_credit": request.user.has_perm(RELEASE_CREDIT_HOLD)}
    return render_partial(request, "billing/approval_queue.html", context, partial="queue",
                          target="queue")


def _decided(request: AuthenticatedRequest, order: Order, message: str) -> HttpResponse:
    if request.htmx:
        return render(request, "billing/approval_queue.html#decided-row",
                      {"order": order, "message": message})
    messages.success(request, message)
    return redirect("billing:approval_queue")


@require_POST
@permission_required("orders.approve_order")
def approve(request: AuthenticatedRequest, order_id: int) -> HttpResponse:
    get_or_404(order_selectors.get_order, order_id=order_id)
    form = DecisionForm(request.POST)
    form.is_valid()
    order = services.approve_held_order(order_id=order_id, actor=request.user,
                                        reason=form.cleaned_data.get("reason", ""))
    return _decided(request, order, _("Order %(number)s approved: %(status)s.")
                    % {"number": order.number, "status": order.get_status_display()})


@require_POST
@permission_required("orders.approve_order")
def reject(request: AuthenticatedRequest, order_id: int) -> HttpResponse:
    get_or_404(order_selectors.get_order, order_id=order_id)
    form = DecisionForm(request.POST)
    form.is_valid()
    order = services.reject_held_order(order_id=order_id, actor=request.user,
                                       reason=form.cleaned_data.get("reason", ""))
    return _decided(request, order, _("Order %(number)s rejected and cancelled.")
                    % {"number": order.number})


@require_http_methods(["GET", "POST"])
@never_cache  # the page carries a payment form and a bearer token in its URL
@sensitive_post_parameters("card_number", "cvc")
@public
def card_retry(request: HttpRequest, token: str) -> HttpResponse:
    try:
        order_id = services.order_id_from_card_link(token)
    except ApplicationError as exc:
        return render(request, "billing/card_retry.html", {"error": exc.message}, status=400)
    order = get_or_404(order_selectors.get_order, order_id=order_id)
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
                form.add_payment_error(exc)
            except ApplicationError as exc:
                return render(request, "billing/card_retry.html",
                              {**context, "error": exc.message}, status=exc.status)
            else:
                if result.status in services.CARD_ACCEPTED:
                    order.refresh_from_db()
                    return render(request, "billing/card_retry.html",
                                  {**context, "order": order, "success": True,
                                   "masked_card": f"{result.brand} •••• {result.last4}"})
                form.add_error(None, result.message or _("The card was not accepted."))
        form.renew_attempt(services.new_attempt_key())
        return render(request, "billing/card_retry.html", {**context, "form": form},
                      status=400)

    form = CardForm(initial={"attempt_key": services.new_attempt_key()})
    return render(request, "billing/card_retry.html", {**context, "form": form})


@require_GET
@permission_required("billing.view_invoice")
def invoice_list(request: AuthenticatedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in selectors.INVOICE_FILTERS:
        status = ""
    query = request.GET.get("q", "").strip()[:100]
    page = selectors.invoice_page(status=status, query=query,
                                  page=parse_page(request.GET.get("page")))
    context = {"page": page, "invoices": page.object_list, "status": status, "query": query,
               "statuses": [(s.value, s.label) for s in selectors.INVOICE_FILTERS]}
    return render_partial(request, "billing/invoice_list.html", context, partial="results",
                          target="invoice-results")


def _detail_context(request: HttpRequest, invoice: Invoice, *, payment_form=None) -> dict:
    return {"invoice": invoice, "order": invoice.order,
            "payment_form": payment_form or InvoicePaymentForm(
                initial={"amount": invoice.outstanding,
                         "received_on": timezone.localdate()}),
            "credit_form": SubmissionForm(),
            "refunds": selectors.card_refunds(order_id=invoice.order_id),
            "credit_balance": selectors.customer_credit_balance(
                customer_id=invoice.customer_id, currency=invoice.currency)}


@require_GET
@permission_required("billing.view_invoice")
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_or_404(selectors.invoice_detail, invoice_id=pk)
    return render(request, "billing/invoice_detail.html", _detail_context(request, invoice))


@require_GET
@permission_required("billing.view_invoice")
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponseBase:
    invoice = get_or_404(selectors.get_issued_invoice, invoice_id=pk)
    if invoice.pdf_path and default_storage.exists(invoice.pdf_path):
        return FileResponse(default_storage.open(invoice.pdf_path, "rb"),
                            content_type="application/pdf", as_attachment=False,
                            filename=f"{invoice.number}.pdf")
    # Not stored yet (the background rendering after issue has not run) or
    # never stored (invoices loaded in bulk): an issued invoice never changes,
    # so rendering it now gives the same document.
    response = HttpResponse(services.invoice_pdf_bytes(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


def _already_submitted(request: HttpRequest, invoice: Invoice, message: str) -> HttpResponse:
    """The answer to a form submitted twice: back to the invoice, which shows
    what the first submit wrote."""
    messages.warning(request, message)
    url = reverse("billing:invoice_detail", args=[invoice.pk])
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@permission_required("billing.view_invoice", "billing.add_payment")
def record_payment(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = get_or_404(selectors.invoice_detail, invoice_id=pk)
    form = InvoicePaymentForm(request.POST)
    if form.is_valid():
        try:
            record = services.record_invoice_payment(
                invoice_id=invoice.pk, data=form.input, actor=request.user,
                submission_key=form.cleaned_data["submission_key"])
        except AlreadySubmitted as exc:
            earlier = selectors.invoice_payment(invoice_id=invoice.pk, payment_id=exc.result_id)
            return _already_submitted(request, invoice, exc.message if earlier is None else _(
                "This payment was already recorded: %(amount)s on %(number)s. It was not "
                "recorded again.") % {"amount": format_money(earlier.amount, invoice.currency),
                                      "number": invoice.number})
        except ApplicationError as exc:
            errors_onto_form(form, exc)
        else:
            message = _("Payment of %(amount)s recorded on %(number)s.") % {
                "amount": format_money(record.amount, invoice.currency), "number": invoice.number}
            if record.amount > record.applied:
                message += " " + _("%(credit)s kept as customer credit.") % {
                    "credit": format_money(record.amount - record.applied, invoice.currency)}
            messages.success(request, message)
            return redirect("billing:invoice_detail", invoice.pk)
    context = _detail_context(request, invoice, payment_form=form)
    return render_partial(request, "billing/invoice_detail.html", context,
                          partial="payment-form", status=400)


@require_POST
@permission_required("billing.view_invoice", "billing.add_payment")
def apply_credit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = get_or_404(selectors.get_issued_invoice, invoice_id=pk)
    form = SubmissionForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(" ".join(str(e) for e in form.errors["submission_key"]))
    try:
        record = services.apply_customer_credit(
            invoice_id=invoice.pk, actor=request.user,
            submission_key=form.cleaned_data["submission_key"])
    except AlreadySubmitted as exc:
        earlier = selectors.invoice_payment(invoice_id=invoice.pk, payment_id=exc.result_id)
        return _already_submitted(request, invoice, exc.message if earlier is None else _(
            "%(amount)s of customer credit was already applied to %(number)s. Nothing was "
            "applied again.") % {"amount": format_money(earlier.amount, invoice.currency),
                                 "number": invoice.number})
    messages.success(request, _("%(amount)s of customer credit applied to %(number)s.")
                     % {"amount": format_money(record.amount, invoice.currency),
                        "number": invoice.number})
    return redirect("billing:invoice_detail", invoice.pk)


@require_http_methods(["GET", "POST"])
@permission_required("billing.view_invoice", "billing.add_creditnote")
def credit_note_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = get_or_404(selectors.invoice_detail, invoice_id=pk)
    rates = [row.rate for row in invoice.tax_rates.all()]
    form = CreditNoteForm(request.POST or None, rates=rates)
    if request.method == "POST" and form.is_valid():
        try:
            note = services.issue_credit_note(
                invoice_id=invoice.pk, data=form.input, actor=request.user,
                submission_key=form.cleaned_data["submission_key"])
        except AlreadySubmitted as exc:
            earlier = selectors.credit_note_of_invoice(invoice_id=invoice.pk,
                                                       credit_note_id=exc.result_id)
            return _already_submitted(request, invoice, exc.message if earlier is None else _(
                "Credit note %(number)s was already issued from this form. No second credit "
                "note was issued.") % {"number": earlier.number})
        except ApplicationError as exc:
            errors_onto_form(form, exc)
        else:
            messages.success(request, _("Credit note %(number)s issued.")
                             % {"number": note.number})
            return redirect("billing:invoice_detail", invoice.pk)
    return render(request, "billing/credit_note_form.html",
                  {"invoice": invoice, "form": form,
                   "room": services.credit_note_room(invoice)},
                  status=400 if form.errors else 200)


@require_GET
@permission_required("billing.view_creditnote")
def credit_note_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_or_404(selectors.get_credit_note, credit_note_id=pk)
    response = HttpResponse(services.credit_note_pdf_bytes(note),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{note.number}.pdf"'
    return response


@require_GET
@permission_required("billing.view_invoice")
def receivables(request: AuthenticatedRequest) -> HttpResponse:
    today = timezone.localdate()
    page = selectors.open_invoices(today=today, page=parse_page(request.GET.get("page")))
    customers = selectors.receivables_by_customer(
        today=today, page=parse_page(request.GET.get("cpage")))
    context = {"page": page, "invoices": page.object_list, "today": today,
               "aging": selectors.aging_summary(today=today),
               "customers": customers}
    return render_partial(request, "billing/receivables.html", context, partial="open-invoices",
                          target="open-invoices")


@require_POST
@permission_required("orders.settle_return")
def settle_return(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Accounting settles an inspected return from its page; back to that page."""
    try:
        data = return_settlement.ReturnSettlementInput.parse(
            settlement=request.POST.get("settlement", ""),
            skus=request.POST.getlist("exchange_sku"),
            quantities=request.POST.getlist("exchange_quantity"))
        ret = return_settlement.settle_return(return_id=pk, data=data, actor=request.user)
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        messages.error(request, exc.text())
        return redirect("orders:return_detail", pk)
    messages.success(request, _("Return %(number)s settled: %(how)s.")
                     % {"number": ret.number, "how": ret.get_settlement_display()})
    return redirect("orders:return_detail", pk)
