"""Back-office price list pages: the lists, and one list's prices, where a
price is set (a product from a quantity on) or removed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.validation import errors_onto_form
from orders import pricing_selectors, services
from orders.inputs import PriceInput
from orders.models import PriceListEntry


class PriceForm(forms.Form):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64)
    min_quantity = forms.CharField(label=gettext_lazy("From quantity"), initial="1",
                                   max_length=6)
    unit_price = forms.CharField(label=gettext_lazy("Unit price"), max_length=20)


@require_GET
@permission_required("orders.view_pricelist")
def price_list_list(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/price_list_list.html",
                  {"price_lists": pricing_selectors.price_lists()})


@require_http_methods(["GET", "POST"])
@permission_required("orders.view_pricelist")
def price_list_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    price_list = get_object_or_404(pricing_selectors.price_lists(), pk=pk)
    form = PriceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("orders.change_pricelist"):
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                data = PriceInput.parse(form.cleaned_data)
                services.set_price(price_list=price_list, data=data, actor=request.user)
            except ApplicationError as exc:
                errors_onto_form(form, exc)
            else:
                messages.success(request, _("Price of %(sku)s saved.") % {"sku": data.sku})
                return redirect("orders:price_list_detail", pk=price_list.pk)
        status = 422
    return render(request, "orders/price_list_detail.html", {
        "price_list": price_list,
        "entries": pricing_selectors.price_list_entries(price_list=price_list),
        "form": form, "can_change": request.user.has_perm("orders.change_pricelist"),
    }, status=status)


@require_POST
@permission_required("orders.change_pricelist")
def price_remove(request: AuthenticatedRequest, pk: int, entry_pk: int) -> HttpResponse:
    entry = get_object_or_404(PriceListEntry, pk=entry_pk, price_list_id=pk)
    services.remove_price(entry=entry, actor=request.user)
    messages.success(request, _("Price removed."))
    return redirect("orders:price_list_detail", pk=pk)
