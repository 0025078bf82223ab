"""Back-office views of the customers app: list and search, create, edit,
addresses and the customer card. Thin: bind a form, call a service or a
selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from customers import selectors, services
from customers.forms import AddressForm, CustomerForm
from customers.models import Address, Customer, Standing
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.paging import parse_page


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
    if request.htmx and request.htmx.target == "customer-results":
        return render(request, "customers/customer_list.html#results", context)
    return render(request, "customers/customer_list.html", context)


@require_GET
@permission_required("customers.view_customer")
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        card = selectors.customer_card(customer_id=pk)
    except Customer.DoesNotExist:
        raise Http404
    return render(request, "customers/customer_detail.html",
                  {"card": card, "customer": card.customer, "address_form": AddressForm()})


@require_http_methods(["GET", "POST"])
@permission_required("customers.add_customer")
def customer_create(request: AuthenticatedRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.create_customer(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("customers:detail", customer.pk)
    status = 400 if form.errors else 200
    return render(request, "customers/customer_form.html", {"form": form, "customer": None},
                  status=status)


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer")
def customer_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    initial = {name: getattr(customer, name) for name in CustomerForm.base_fields}
    form = CustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.update_customer(customer=customer, actor=request.user, **changed)
        except ApplicationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
            return redirect("customers:detail", customer.pk)
    status = 400 if form.errors else 200
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer},
                  status=status)


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer")
def address_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_address(customer=customer, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_service_errors(exc, prefix="addresses.0.")
        else:
            messages.success(request, _("Address added."))
            return redirect("customers:detail", customer.pk)
    status = 400 if form.errors else 200
    return render(request, "customers/address_form.html",
                  {"form": form, "customer": customer, "address": None}, status=status)


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer")
def address_edit(request: AuthenticatedRequest, pk: int, address_pk: int) -> HttpResponse:
    address = get_object_or_404(Address, pk=address_pk, customer_id=pk)
    initial = {name: getattr(address, name) for name in AddressForm.base_fields}
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_address(address=address, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_service_errors(exc, prefix="addresses.0.")
        else:
            messages.success(request, _("Address saved."))
            return redirect("customers:detail", pk)
    status = 400 if form.errors else 200
    return render(request, "customers/address_form.html",
                  {"form": form, "customer": address.customer, "address": address},
                  status=status)
