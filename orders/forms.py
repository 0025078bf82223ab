"""Back-office forms of the orders app: order entry and the CSV upload.

The entry form's field names are the paths of the placement input
(`shipping_address.city`, `customer.email`, `payment.card_number`), so the
input's field errors land on their fields as they are. The form parses the
page; the rules live in `orders.inputs` and the services.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Address, Customer, CustomerKind
from oms.lib.forms import NeverEchoInput, SubmissionKeyField
from orders import imports
from orders.feedback_models import MAX_COMMENT, MAX_RATING, MIN_RATING
from orders.models import Channel, PaymentMethod

ENTRY_CHANNELS = [Channel.PHONE, Channel.EMAIL, Channel.STORE, Channel.WEB]
NEW_CUSTOMER_FIELDS = ("name", "email", "phone", "kind", "vat_id")


def _text(label, *, max_length: int, required: bool = True, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=required, **kwargs)


class EntryForm(forms.Form):
    """The order header: customer (existing or new), address, terms."""

    customer = forms.ModelChoiceField(Customer.objects.all(), required=False,
                                      widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"),
                                choices=[(c.value, c.label) for c in ENTRY_CHANNELS],
                                initial=Channel.PHONE)
    currency = forms.ChoiceField(label=gettext_lazy("Currency"))
    promised_delivery_date = forms.DateField(
        label=gettext_lazy("Promised delivery date"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    requested_carrier = forms.CharField(
        label=gettext_lazy("Requested carrier"), required=False, max_length=100,
        help_text=gettext_lazy("If the customer asked for one; the warehouse sees it."))
    ship_complete = forms.ChoiceField(
        label=gettext_lazy("Shipping"), required=False, choices=[
            ("", gettext_lazy("As the customer prefers")),
            ("true", gettext_lazy("Ship complete (one parcel)")),
            ("false", gettext_lazy("Ship what is ready, the rest follows"))],
        help_text=gettext_lazy("When an item is out of stock."))
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))
    discount = forms.CharField(
        label=gettext_lazy("Order discount"), required=False, max_length=20,
        # xgettext:no-python-format
        help_text=gettext_lazy("10% or an amount net of tax, after the line discounts."))
    discount_code = forms.CharField(label=gettext_lazy("Discount code"), required=False,
                                    max_length=40)
    # Saved or placed once per rendered form: a double submit makes no second order.
    submission_key = SubmissionKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["currency"]).choices = [
            (c, c) for c in settings.CURRENCIES]
        self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        # Named by input path: dotted, so added here rather than declared.
        self.fields.update({
            "customer.name": _text(gettext_lazy("Name"), max_length=200, required=False),
            "customer.email": _text(gettext_lazy("E-mail"), max_length=254, required=False,
                                    widget=forms.EmailInput),
            "customer.phone": _text(gettext_lazy("Phone"), max_length=40, required=False),
            "customer.kind": forms.ChoiceField(label=gettext_lazy("Kind"),
                                               choices=CustomerKind.choices,
                                               initial=CustomerKind.PERSON, required=False),
            "customer.vat_id": _text(gettext_lazy("VAT id"), max_length=40, required=False,
                                     help_text=gettext_lazy("A company in another EU state: "
                                                            "its VAT id, e.g. BE0123456749.")),
            "shipping_address.name": _text(gettext_lazy("Recipient"), max_length=200),
            "shipping_address.line1": _text(gettext_lazy("Address line 1"), max_length=200),
            "shipping_address.line2": _text(gettext_lazy("Address line 2"), max_length=200,
                                            required=False),
            "shipping_address.postal_code": _text(gettext_lazy("Postal code"), max_length=20),
            "shipping_address.city": _text(gettext_lazy("City"), max_length=100),
            "shipping_address.region": _text(gettext_lazy("Region"), max_length=100,
                                             required=False),
            "shipping_address.country": _text(gettext_lazy("Country"), max_length=2,
                                              help_text=gettext_lazy("Two letters, e.g. FR.")),
            "payment.method": forms.ChoiceField(label=gettext_lazy("Payment"),
                                                choices=PaymentMethod.choices),
            "payment.card_number": _text(
                gettext_lazy("Card number"), max_length=30, required=False,
                help_text=gettext_lazy("Cards only; never stored."),
                widget=NeverEchoInput(attrs={"autocomplete": "off", "inputmode": "numeric"})),
        })

    # Groups of fields for the template (dotted names cannot be looked up there).
    @property
    def new_customer_fields(self) -> list[forms.BoundField]:
        return [self[f"customer.{name}"] for name in NEW_CUSTOMER_FIELDS]

    @property
    def address_fields(self) -> list[forms.BoundField]:
        return [self[f"shipping_address.{name}"] for name in Address.SNAPSHOT_FIELDS]

    @property
    def payment_method(self) -> forms.BoundField:
        return self["payment.method"]

    @property
    def card_number(self) -> forms.BoundField:
        return self["payment.card_number"]

    def clean(self):
        data = super().clean()
        assert data is not None  # forms.Form.clean returns cleaned_data
        # The clerk types the card number now: a card payment needs one here.
        if data.get("payment.method") == PaymentMethod.CARD \
                and not data.get("payment.card_number") \
                and "payment.card_number" not in self.errors:
            self.add_error("payment.card_number",
                           _("Enter the card number for a card payment."))
        return data

    def input_data(self, lines: list[tuple[str, int | None, str | None]]) -> dict[str, Any]:
        """The placement input (`PlaceOrder` with a picked customer, else
        `CaptureOrder`) as nested data, from the cleaned fields; lines are
        (sku, quantity, discount)."""
        data: dict[str, Any] = {"lines": [{"sku": sku, "quantity": quantity, "discount": discount}
                                          for sku, quantity, discount in lines]}
        for name, value in self.cleaned_data.items():
            *parents, leaf = name.split(".")
            if name in ("customer", "submission_key"):  # the key goes beside the input
                continue
            target = data
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = value
        data["customer"]["kind"] = data["customer"]["kind"] or CustomerKind.PERSON
        data["discount"] = data["discount"] or None
        if self.cleaned_data.get("customer") is not None:
            data["customer"] = self.cleaned_data["customer"].pk
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"),
                           help_text=gettext_lazy("UTF-8, one row per order line."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB; split it."))
        return upload


RATING_CHOICES = [(str(stars), str(stars)) for stars in range(MIN_RATING, MAX_RATING + 1)]


class FeedbackForm(forms.Form):
    """The customer's rating on their order page; `orders.inputs.FeedbackInput`
    checks it (its field errors land on these fields)."""

    rating = forms.CharField(label=gettext_lazy("Your rating"), required=False,
                             widget=forms.RadioSelect(choices=RATING_CHOICES))
    comment = forms.CharField(label=gettext_lazy("Your comment (optional)"), required=False,
                              strip=False, widget=forms.Textarea(attrs={
                                  "rows": 4, "maxlength": MAX_COMMENT}))

    def values(self) -> dict[str, str]:
        """The posted values for the input; a missing rating stays missing."""
        values = {"comment": self.data.get("comment", "")}
        if self.data.get("rating"):
            values["rating"] = self.data["rating"]
        return values
