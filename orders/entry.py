"""Back-office capture: order entry by Sales and the CSV import.

Entry is one page: pick or create the customer (search as you type), add
lines (product search as you type), live availability per warehouse and live
totals computed on the server with `orders.totals`, then save as a draft or
place. Every htmx request renders a partial of `orders/entry.html`. Nothing
is written until the form is valid; services do the writing.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.models import Customer, CustomerKind
from inventory import api as inventory_api
from inventory.models import Product
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from orders import imports
from orders.capture import CustomerData, capture_order
from orders.models import Channel, PaymentMethod
from orders.payments import PaymentDetails
from orders.totals import PricedLine, Totals, compute_totals

SEARCH_LIMIT = 10
MAX_LINES = 200
ENTRY_CHANNELS = [Channel.PHONE, Channel.EMAIL, Channel.STORE, Channel.WEB]
CARD_NUMBER = re.compile(r"^\d{12,19}$")
IMPORT_SALT = "orders.import"


# --- forms ----------------------------------------------------------------------

class EntryForm(forms.Form):
    """The order header: customer (existing or new), address, terms."""

    customer = forms.ModelChoiceField(Customer.objects.all(), required=False,
                                      widget=forms.HiddenInput)
    new_name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    new_email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    new_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    new_kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CustomerKind.choices,
                                 initial=CustomerKind.PERSON, required=False)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"),
                                choices=[(c.value, c.label) for c in ENTRY_CHANNELS],
                                initial=Channel.PHONE)
    currency = forms.ChoiceField(label=gettext_lazy("Currency"))
    ship_name = forms.CharField(label=gettext_lazy("Recipient"), max_length=200)
    ship_line1 = forms.CharField(label=gettext_lazy("Address line 1"), max_length=200)
    ship_line2 = forms.CharField(label=gettext_lazy("Address line 2"), max_length=200,
                                 required=False)
    ship_postal_code = forms.CharField(label=gettext_lazy("Postal code"), max_length=20)
    ship_city = forms.CharField(label=gettext_lazy("City"), max_length=100)
    ship_region = forms.CharField(label=gettext_lazy("Region"), max_length=100, required=False)
    ship_country = forms.CharField(label=gettext_lazy("Country"), max_length=2,
                                   help_text=gettext_lazy("Two letters, e.g. FR."))
    promised_delivery_date = forms.DateField(
        label=gettext_lazy("Promised delivery date"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    payment_method = forms.ChoiceField(label=gettext_lazy("Payment"),
                                       choices=PaymentMethod.choices)
    card_number = forms.CharField(label=gettext_lazy("Card number"), max_length=30,
                                  required=False,
                                  help_text=gettext_lazy("Cards only; never stored."),
                                  widget=forms.TextInput(attrs={"autocomplete": "off",
                                                                "inputmode": "numeric"}))
    requested_carrier = forms.CharField(
        label=gettext_lazy("Requested carrier"), required=False, max_length=100,
        help_text=gettext_lazy("If the customer asked for one; the warehouse sees it."))
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currency = cast(forms.ChoiceField, self.fields["currency"])
        currency.choices = [(c, c) for c in settings.CURRENCIES]
        currency.initial = settings.DEFAULT_CURRENCY

    def clean_ship_country(self) -> str:
        country = self.cleaned_data["ship_country"].strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise forms.ValidationError(_("Use the two-letter ISO country code, e.g. FR."))
        return country

    def clean_card_number(self) -> str:
        number = re.sub(r"[\s-]", "", self.cleaned_data["card_number"])
        if number and not CARD_NUMBER.match(number):
            raise forms.ValidationError(_("Enter 12 to 19 digits."))
        return number

    def clean(self):
        super().clean()
        data = self.cleaned_data
        customer = data.get("customer")
        if customer is None:
            if not data.get("new_name"):
                self.add_error("new_name", _("Pick a customer or enter a new one's name."))
            if not data.get("new_email") and "new_email" not in self.errors:
                self.add_error("new_email", _("Pick a customer or enter a new one's e-mail."))
        elif customer.is_blocked:
            self.add_error("customer", _("This customer is blocked and cannot order."))
        if data.get("payment_method") == PaymentMethod.CARD and not data.get("card_number") \
                and "card_number" not in self.errors:
            self.add_error("card_number", _("Enter the card number for a card payment."))
        return data

    def shipping_address(self) -> dict:
        data = self.cleaned_data
        return {name: data.get(f"ship_{name}", "") for name in
                ("name", "line1", "line2", "postal_code", "city", "region", "country")}


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"),
                           help_text=gettext_lazy("UTF-8, one row per order line."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB; split it."))
        return upload


# --- lines ------------------------------------------------------------------------

@dataclass
class EntryLine:
    sku: str
    quantity_raw: str
    quantity: int | None = None
    name: str = ""
    unit_price: Decimal | None = None
    tax_rate: Decimal | None = None
    net: Decimal | None = None
    availability: list = field(default_factory=list)
    available: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def short(self) -> bool:
        return self.quantity is not None and self.quantity > self.available


@dataclass
class EntryLines:
    lines: list[EntryLine]
    totals: Totals | None

    @property
    def has_errors(self) -> bool:
        return any(line.errors for line in self.lines)


def build_lines(skus: list[str], quantities: list[str]) -> EntryLines:
    """Price the lines from the catalogue and attach live availability.
    Reads only: two queries for the products, one for the stock."""
    raw = [(sku.strip(), (quantities[i] if i < len(quantities) else "1").strip())
           for i, sku in enumerate(skus) if sku.strip()][:MAX_LINES]
    products = inventory_api.products_by_sku(skus=[sku for sku, _q in raw])
    availability = inventory_api.availability(
        product_ids=[p.id for p in products.values()]) if products else {}
    lines, seen, priced = [], set(), []
    for sku, quantity_raw in raw:
        line = EntryLine(sku=sku, quantity_raw=quantity_raw)
        product = products.get(sku)
        if sku in seen:
            line.errors.append(_("This product is already on the order."))
        seen.add(sku)
        if product is None:
            line.errors.append(_("Unknown SKU."))
        else:
            line.name, line.unit_price, line.tax_rate = (product.name, product.unit_price,
                                                         product.tax_rate)
            line.availability = availability.get(product.id, [])
            line.available = sum(max(w.available, 0) for w in line.availability)
            if not product.is_active:
                line.errors.append(_("This product is no longer sold."))
        if re.fullmatch(r"\d{1,6}", quantity_raw) and int(quantity_raw) > 0:
            line.quantity = int(quantity_raw)
        else:
            line.errors.append(_("Enter a whole number above zero."))
        if line.quantity and line.unit_price is not None and line.tax_rate is not None:
            priced_line = PricedLine(unit_price=line.unit_price, tax_rate=line.tax_rate,
                                     quantity=line.quantity)
            line.net = priced_line.net
            if not line.errors:
                priced.append(priced_line)
        lines.append(line)
    return EntryLines(lines=lines, totals=compute_totals(priced) if priced else None)


def _posted_lines(request: HttpRequest) -> tuple[list[str], list[str]]:
    skus = request.POST.getlist("line_sku")
    quantities = request.POST.getlist("line_qty")
    remove = request.POST.get("remove")
    if remove is not None and remove.isdigit() and int(remove) < len(skus):
        index = int(remove)
        skus = skus[:index] + skus[index + 1:]
        quantities = quantities[:index] + quantities[index + 1:]
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
    return skus, quantities


def _render_entry(request: HttpRequest, form: EntryForm, entry_lines: EntryLines,
                  *, status: int = 200, error: str = "") -> HttpResponse:
    customer = None
    if form.is_bound:
        customer_id = form.data.get("customer")
        if customer_id and str(customer_id).isdigit():
            customer = Customer.objects.filter(pk=customer_id).first()
    else:
        customer = form.initial.get("customer")
    currency = (form.data.get("currency") if form.is_bound else None) or settings.DEFAULT_CURRENCY
    return render(request, "orders/entry.html", {
        "form": form, "entry": entry_lines, "customer": customer, "error": error,
        "currency": currency if currency in settings.CURRENCIES else settings.DEFAULT_CURRENCY,
        "can_place": request.user.has_perm("orders.place_order"),
    }, status=status)


# --- entry views ----------------------------------------------------------------

@require_GET
@permission_required("orders.add_order")
def entry(request: HttpRequest) -> HttpResponse:
    initial: dict = {}
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        customer = Customer.objects.prefetch_related("addresses").filter(pk=customer_id).first()
        if customer is not None:
            initial = _customer_initial(customer)
    return _render_entry(request, EntryForm(initial=initial), EntryLines(lines=[], totals=None))


def _customer_initial(customer: Customer) -> dict:
    initial: dict = {"customer": customer}
    address = customer.default_address("shipping") or customer.default_address("billing")
    if address is not None:
        initial.update({f"ship_{name}": getattr(address, name)
                        for name in ("name", "line1", "line2", "postal_code", "city", "region",
                                     "country")})
    else:
        initial["ship_name"] = customer.name
    if customer.payment_preference in PaymentMethod.values:
        initial["payment_method"] = customer.payment_preference
    return initial


@require_GET
@permission_required("orders.add_order")
def customer_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("customer_q", "").strip()
    customers = []
    if len(query) >= 2:
        customers = list(Customer.objects.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(phone__icontains=query)
        ).order_by("name", "id")[:SEARCH_LIMIT])
    return render(request, "orders/entry.html#customer_results",
                  {"customers": customers, "query": query})


@require_GET
@permission_required("orders.add_order")
def customer_pick(request: HttpRequest) -> HttpResponse:
    """The customer block with the chosen customer and its shipping address;
    `?customer=` empty switches to entering a new customer."""
    customer_id = request.GET.get("customer", "")
    customer = None
    if customer_id.isdigit():
        customer = get_object_or_404(Customer.objects.prefetch_related("addresses"),
                                     pk=customer_id)
    form = EntryForm(initial=_customer_initial(customer) if customer else {})
    return render(request, "orders/entry.html#customer_block",
                  {"form": form, "customer": customer, "picked": True})


@require_GET
@permission_required("orders.add_order")
def product_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("product_q", "").strip()
    results = []
    if query:
        products = list(Product.objects.filter(is_active=True).filter(
            Q(sku__icontains=query) | Q(name__icontains=query)).order_by("sku")[:SEARCH_LIMIT])
        availability = inventory_api.availability(product_ids=[p.pk for p in products]) \
            if products else {}
        results = [(p, sum(max(w.available, 0) for w in availability.get(p.pk, [])))
                   for p in products]
    return render(request, "orders/entry.html#product_results",
                  {"results": results, "query": query})


@require_POST
@permission_required("orders.add_order")
def entry_lines(request: HttpRequest) -> HttpResponse:
    """Recompute the lines table (add, remove, change quantity): live
    availability and totals, nothing written."""
    skus, quantities = _posted_lines(request)
    currency = request.POST.get("currency") or settings.DEFAULT_CURRENCY
    if currency not in settings.CURRENCIES:
        currency = settings.DEFAULT_CURRENCY
    return render(request, "orders/entry.html#lines",
                  {"entry": build_lines(skus, quantities), "currency": currency,
                   "added": bool(request.POST.get("add_sku"))})


@require_POST
@permission_required("orders.add_order")
def entry_save(request: AuthenticatedRequest) -> HttpResponse:
    """Save as draft (`action=draft`) or place (`action=place`)."""
    action = request.POST.get("action", "place")
    if action not in {"draft", "place"}:
        action = "place"
    if action == "place" and not request.user.has_perm("orders.place_order"):
        raise PermissionDenied
    form = EntryForm(request.POST)
    skus, quantities = _posted_lines(request)
    entry_lines = build_lines(skus, quantities)
    error = ""
    if not entry_lines.lines:
        error = _("Add at least one line.")
    elif entry_lines.has_errors:
        error = _("Some lines have errors.")
    if not form.is_valid() or error:
        # Field errors are listed by the form's own summary; `error` is for the lines.
        return _render_entry(request, form, entry_lines, status=422, error=error)
    data = form.cleaned_data
    customer: Customer | None = data["customer"]
    payment = PaymentDetails(method=data["payment_method"],
                             card_number=data["card_number"] or None)
    try:
        order = capture_order(
            customer=CustomerData(email=data["new_email"], name=data["new_name"],
                                  kind=data["new_kind"] or CustomerKind.PERSON,
                                  phone=data["new_phone"]) if customer is None else customer,
            lines=[(line.sku, line.quantity) for line in entry_lines.lines if line.quantity],
            channel=data["channel"], currency=data["currency"],
            shipping_address=form.shipping_address(),
            promised_delivery_date=data["promised_delivery_date"],
            payment=payment, notes=data["notes"],
            requested_carrier=data["requested_carrier"],
            actor=request.user, draft=action == "draft")
    except ApplicationError as exc:
        _errors_onto_form(form, exc)
        return _render_entry(request, form, entry_lines, status=exc.status if
                             exc.status != 400 else 422, error=exc.message)
    if action == "draft":
        messages.success(request, _("Draft %(number)s saved.") % {"number": order.number})
    else:
        messages.success(request, _("Order %(number)s placed.") % {"number": order.number})
    return redirect("orders:detail", pk=order.pk)


# Service error paths -> entry form fields.
_FIELD_MAP = {"customer.email": "new_email", "email": "new_email", "name": "new_name",
              "phone": "new_phone", "kind": "new_kind", "customer": "customer",
              "currency": "currency", "payment": "payment_method",
              "payment_method": "payment_method", "card_number": "card_number",
              "payment.method": "payment_method", "payment.card_number": "card_number",
              "promised_delivery_date": "promised_delivery_date", "notes": "notes",
              "requested_carrier": "requested_carrier",
              "channel": "channel"}


def _errors_onto_form(form: EntryForm, exc: ApplicationError) -> None:
    for path, errors in exc.field_errors.items():
        name = _FIELD_MAP.get(path)
        if name is None and "address" in path:
            name = "ship_" + path.rsplit(".", 1)[-1]
        if name not in form.fields:
            name = None
        for message in errors:
            form.add_error(name, message)


# --- CSV import ---------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@permission_required("orders.import_orders")
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload, then preview: per-row errors, or the orders about to be made."""
    if request.method == "GET":
        return render(request, "orders/import.html",
                      {"form": ImportForm(), "columns": _column_docs()})
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "orders/import.html",
                      {"form": form, "columns": _column_docs()}, status=422)
    content = form.cleaned_data["file"].read()
    try:
        preview = imports.check(content)
    except ApplicationError as exc:
        form.add_error("file", exc.message)
        return render(request, "orders/import.html",
                      {"form": form, "columns": _column_docs()}, status=422)
    context = {"form": ImportForm(), "preview": preview, "columns": _column_docs(),
               "filename": form.cleaned_data["file"].name}
    if preview.is_clean:
        stored = imports.store_upload(content)
        context["ticket"] = signing.dumps({"file": stored, "user": request.user.pk},
                                          salt=IMPORT_SALT)
    return render(request, "orders/import.html", context,
                  status=200 if preview.is_clean else 422)


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
        content = imports.load_upload(ticket["file"])
        orders = imports.import_orders(content=content, actor=request.user)
    except ApplicationError as exc:
        preview = None
        with contextlib.suppress(ApplicationError):
            preview = imports.check(imports.load_upload(ticket["file"]))
        return render(request, "orders/import.html",
                      {"form": ImportForm(), "preview": preview, "columns": _column_docs(),
                       "import_error": exc.message}, status=exc.status)
    imports.discard_upload(ticket["file"])
    messages.success(request, _("%(count)d orders imported.") % {"count": len(orders)})
    return redirect("orders:import")


def _column_docs() -> list[tuple[str, bool]]:
    return [(name, name in imports.REQUIRED_COLUMNS) for name in imports.COLUMNS]
