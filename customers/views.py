"""Back-office views of the customers app: list and search, create, edit,
addresses and the customer card. Thin: bind a form, call a service or a
selector, render."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers import selectors, services
from customers.forms import AddressForm, ContactForm, CustomerForm, InteractionForm
from customers.inputs import ContactInput, CustomerInput, InteractionInput
from customers.models import CHANGE_CREDIT_TERMS, CREDIT_TERMS_FIELDS, Customer, Standing
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.htmx import render_partial
from oms.lib.http import get_or_404
from oms.lib.paging import parse_page
from oms.lib.validation import errors_onto_form


@require_GET
@permission_required("customers.view_customer")
def customer_list(request: AuthenticatedRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    standing = request.GET.get("standing", "")
    if standing not in Standing.values:
        standing = ""
    page = selectors.customer_page(query=query, standing=standing,
                                   page=parse_page(request.GET.get("page")))
    context = {"page": page, "customers": page.object_list, "query": query,
               "standing": standing, "standings": Standing.choices}
    return render_partial(request, "customers/customer_list.html", context, partial="results",
                          target="customer-results")


@require_GET
@permission_required("customers.view_customer")
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _card(request, pk)


def _card(request: HttpRequest, pk: int, *, status: int = 200, **forms) -> HttpResponse:
    card = get_or_404(selectors.customer_card, customer_id=pk)
    context = {"card": card, "customer": card.customer, "address_form": AddressForm(),
               "interaction_form": InteractionForm(), "contact_form": ContactForm(), **forms}
    return render(request, "customers/customer_detail.html", context, status=status)


@require_POST
@permission_required("customers.add_interaction")
def log_interaction(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Log a call, an incoming e-mail or a note from the customer card."""
    customer = get_or_404(selectors.get_customer, customer_id=pk)
    form = InteractionForm(request.POST)
    if _save(request, form, lambda: services.log_interaction(
            customer=customer, actor=request.user,
            data=InteractionInput.parse(form.cleaned_data))):
        messages.success(request, _("Logged."))
        return redirect(f"{reverse('customers:detail', args=[pk])}#interactions-title")
    return _card(request, pk, status=400, interaction_form=form)


@require_POST
@permission_required("customers.change_customer")
def contact_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    customer = get_or_404(selectors.get_customer, customer_id=pk)
    form = ContactForm(request.POST)
    if _save(request, form, lambda: services.add_contact(
            customer=customer, actor=request.user, data=ContactInput.parse(form.cleaned_data))):
        messages.success(request, _("Contact added."))
        return redirect(f"{reverse('customers:detail', args=[pk])}#contacts-title")
    return _card(request, pk, status=400, contact_form=form)


@require_POST
@permission_required("customers.change_customer")
def contact_remove(request: AuthenticatedRequest, pk: int, contact_pk: int) -> HttpResponse:
    contact = get_or_404(selectors.get_contact, customer_id=pk, contact_id=contact_pk)
    services.remove_contact(contact=contact, actor=request.user)
    messages.success(request, _("Contact removed."))
    return redirect(f"{reverse('customers:detail', args=[pk])}#contacts-title")


def _save(request: HttpRequest, form, save: Callable[[], object], *, prefix: str = ""):
    """On a valid POST, run the service: its result, or None with its field
    errors on the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return save()
    except ApplicationError as exc:
        errors_onto_form(form, exc, prefix=prefix)
        return None


def _forged_terms(request: AuthenticatedRequest, form: CustomerForm, *,
                  customer: Customer | None) -> HttpResponse | None:
    """A POST naming credit terms from a user who may not change them (the
    form shows them read-only, so only a forged request sends them): refused
    with 403 and the reason on those fields, nothing saved."""
    posted = [name for name in CREDIT_TERMS_FIELDS if name in request.POST]
    if request.method != "POST" or not posted:
        return None
    try:
        services.check_credit_terms_allowed(actor=request.user, fields=posted)
    except ApplicationError as exc:
        form.is_valid()
        errors_onto_form(form, exc)
        return render(request, "customers/customer_form.html",
                      {"form": form, "customer": customer},
                      status=exc.status)
    return None


@require_http_methods(["GET", "POST"])
@permission_required("customers.add_customer")
def customer_create(request: AuthenticatedRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None,
                        may_change_credit_terms=request.user.has_perm(CHANGE_CREDIT_TERMS))
    if (refused := _forged_terms(request, form, customer=None)) is not None:
        return refused
    customer = _save(request, form, lambda: services.create_customer(
        CustomerInput.parse(form.cleaned_data), actor=request.user))
    if customer is not None:
        messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
        return redirect("customers:detail", customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": None},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer")
def customer_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    customer = get_or_404(selectors.get_customer, customer_id=pk)
    initial = {name: getattr(customer, name) for name in CustomerForm.base_fields}
    form = CustomerForm(request.POST or None, initial=initial,
                        may_change_credit_terms=request.user.has_perm(CHANGE_CREDIT_TERMS))
    if (refused := _forged_terms(request, form, customer=customer)) is not None:
        return refused
    if _save(request, form, lambda: services.update_customer(
            customer=customer, actor=request.user,
            **{name: form.cleaned_data[name] for name in form.changed_data})):
        messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
        return redirect("customers:detail", customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer")
def address_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    customer = get_or_404(selectors.get_customer, customer_id=pk)
    form = AddressForm(request.POST or None)
    if _save(request, form, lambda: services.add_address(
            customer=customer, actor=request.user, **form.cleaned_data), prefix="addresses.0."):
        messages.success(request, _("Address added."))
        return redirect("customers:detail", customer.pk)
    return render(request, "customers/address_form.html",
                  {"form": form, "customer": customer, "address": None},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer")
def address_edit(request: AuthenticatedRequest, pk: int, address_pk: int) -> HttpResponse:
    address = get_or_404(selectors.get_address, customer_id=pk, address_id=address_pk)
    initial = {name: getattr(address, name) for name in AddressForm.base_fields}
    form = AddressForm(request.POST or None, initial=initial)
    if _save(request, form, lambda: services.update_address(
            address=address, actor=request.user, **form.cleaned_data), prefix="addresses.0."):
        messages.success(request, _("Address saved."))
        return redirect("customers:detail", pk)
    return render(request, "customers/address_form.html",
                  {"form": form, "customer": address.customer, "address": address},
                  status=400 if form.errors else 200)
