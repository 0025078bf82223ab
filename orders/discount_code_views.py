"""Back-office discount code pages: the codes with their uses and state
(search, filter by state), a code's form (new or change) and deactivation.
Sales may look; managers create, change and deactivate (the permissions of
`oms.lib.roles`). Writes go through `orders.services.discount_codes`."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.paging import has_next_page, parse_page
from oms.lib.validation import errors_onto_form
from orders import pricing_selectors, services
from orders.inputs import DiscountCodeInput
from orders.models import DiscountCode, DiscountKind
from orders.services.discount_codes import FIELDS, TERMS, is_used

PAGE_SIZE = 50
_MOMENT = {"type": "datetime-local"}


class CodeFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False,
                              choices=[("", gettext_lazy("Any")),
                                       *pricing_selectors.CodeState.choices])


class DiscountCodeForm(forms.Form):
    """Text as typed; `DiscountCodeInput` validates it once."""

    code = forms.CharField(label=gettext_lazy("Code"), max_length=40,
                           help_text=gettext_lazy("What the customer quotes; matched without "
                                                  "case."))
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=DiscountKind.choices)
    value = forms.CharField(label=gettext_lazy("Value"), max_length=20,
                            help_text=gettext_lazy("A percentage (above 0, at most 100) or an "
                                                   "amount in the currency."))
    currency = forms.ChoiceField(label=gettext_lazy("Currency"),
                                 help_text=gettext_lazy("Orders in this currency only."))
    minimum_order = forms.CharField(label=gettext_lazy("Minimum order"), required=False,
                                    max_length=20, initial="0.00",
                                    help_text=gettext_lazy("Net goods after line discounts."))
    valid_from = forms.CharField(label=gettext_lazy("Valid from"), required=False,
                                 widget=forms.DateTimeInput(attrs=_MOMENT),
                                 help_text=gettext_lazy("Empty: now."))
    valid_until = forms.CharField(label=gettext_lazy("Valid until"), required=False,
                                  widget=forms.DateTimeInput(attrs=_MOMENT),
                                  help_text=gettext_lazy("Empty: no end."))
    max_uses = forms.CharField(label=gettext_lazy("Uses in total"), required=False,
                               max_length=9, help_text=gettext_lazy("Empty: no limit."))
    max_uses_per_customer = forms.CharField(label=gettext_lazy("Uses per customer"),
                                            required=False, max_length=9, initial="1",
                                            help_text=gettext_lazy("Empty: no limit."))
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, used: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        currency = cast(forms.ChoiceField, self.fields["currency"])
        currency.choices = [(code, code) for code in settings.CURRENCIES]
        if used:  # what a used code gives is fixed (the service refuses it too)
            for name in TERMS:
                self.fields[name].disabled = True


def _initial(code: DiscountCode) -> dict:
    def moment(value):
        return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""
    initial = {name: getattr(code, name) for name in FIELDS}
    initial.update(valid_from=moment(code.valid_from), valid_until=moment(code.valid_until),
                   max_uses=code.max_uses or "",
                   max_uses_per_customer=code.max_uses_per_customer or "")
    return initial


def _as_entered(form: DiscountCodeForm, code: DiscountCode | None) -> dict:
    """The form's values; a moment left as shown keeps the code's own (the
    form shows minutes, the code may hold seconds)."""
    data = dict(form.cleaned_data)
    if code is not None:
        for name in ("valid_from", "valid_until"):
            if data[name] == form.initial.get(name):
                data[name] = getattr(code, name)
    return data


@require_GET
@permission_required("orders.view_discountcode")
def discount_code_list(request: HttpRequest) -> HttpResponse:
    form = CodeFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "orders/discount_code_list.html",
                      {"filter_form": form, "codes": []}, status=400)
    codes = pricing_selectors.discount_codes(query=form.cleaned_data["q"].strip(),
                                     state=form.cleaned_data["state"])
    return render(request, "orders/discount_code_list.html", {
        "filter_form": form,
        "codes": has_next_page(codes, page=parse_page(request.GET.get("page")),
                               page_size=PAGE_SIZE)})


def _save(request: AuthenticatedRequest, code: DiscountCode | None) -> HttpResponse:
    used = code is not None and is_used(code)
    initial = _initial(code) if code is not None else {}
    form = DiscountCodeForm(request.POST if request.method == "POST" else None,
                            initial=initial, used=used)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.save_discount_code(
                    DiscountCodeInput.parse(_as_entered(form, code)), code=code,
                    actor=request.user)
            except ApplicationError as exc:
                errors_onto_form(form, exc)
            else:
                messages.success(request, _("Discount code %(code)s saved.")
                                 % {"code": saved.code})
                return redirect("orders:discount_codes")
        status = 422
    return render(request, "orders/discount_code_form.html",
                  {"form": form, "code": code, "used": used}, status=status)


@require_http_methods(["GET", "POST"])
@permission_required("orders.add_discountcode")
def discount_code_new(request: AuthenticatedRequest) -> HttpResponse:
    return _save(request, None)


@require_http_methods(["GET", "POST"])
@permission_required("orders.change_discountcode")
def discount_code_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _save(request, get_object_or_404(DiscountCode, pk=pk))


@require_POST
@permission_required("orders.change_discountcode")
def discount_code_deactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    code = services.deactivate_discount_code(code=get_object_or_404(DiscountCode, pk=pk),
                                             actor=request.user)
    messages.success(request, _("Discount code %(code)s deactivated: no further order may "
                                "use it.") % {"code": code.code})
    return redirect("orders:discount_codes")
