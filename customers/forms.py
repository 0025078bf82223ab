"""Forms of the customers back office. They parse input; the rules live in
customers.inputs, whose field errors come back onto the fields of the same
name (oms.lib.validation.errors_onto_form)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from customers.models import (
    CREDIT_TERMS_FIELDS,
    AddressKind,
    CustomerKind,
    InteractionKind,
    PaymentPreference,
    Standing,
    time_zones,
)


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    vat_id = forms.CharField(label=_("VAT id"), max_length=40, required=False,
                             help_text=_("Companies in the EU: the intra-community VAT number."))
    preferred_language = forms.ChoiceField(label=_("Preferred language"),
                                           choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(
        label=_("Time zone"), required=False,
        choices=lambda: [("", _("The company's time zone")),
                         *((zone, zone) for zone in time_zones())],
        help_text=_("The deadlines in the customer's e-mails are given in this time zone."))
    payment_preference = forms.ChoiceField(label=_("Payment preference"),
                                           choices=PaymentPreference.choices)
    payment_terms_days = forms.IntegerField(label=_("Payment terms (days)"), min_value=0,
                                            max_value=365, initial=0,
                                            help_text=_("0 = prepaid."))
    credit_limit = forms.DecimalField(label=_("Credit limit"), min_value=0, max_digits=14,
                                      decimal_places=2, initial=0)
    credit_limit_currency = forms.ChoiceField(
        label=_("Credit limit currency"), choices=lambda: [(c, c) for c in settings.CURRENCIES],
        initial=lambda: settings.DEFAULT_CURRENCY,
        help_text=_("Orders and invoices in other currencies are converted into it."))
    standing = forms.ChoiceField(label=_("Standing"), choices=Standing.choices,
                                 initial=Standing.NEW)
    accepts_backorder = forms.BooleanField(label=_("Accepts backorders"), required=False)
    ship_complete = forms.BooleanField(
        label=_("Ship complete"), required=False, initial=True,
        help_text=_("Unticked: what is in stock ships now and the rest follows."))
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}),
                            required=False)

    def __init__(self, *args, may_change_credit_terms: bool = False, **kwargs):
        """Without the permission, the credit terms show read-only: disabled
        fields keep their initial value whatever is posted (the view refuses
        such a post outright, see customers.views)."""
        super().__init__(*args, **kwargs)
        if not may_change_credit_terms:
            for name in CREDIT_TERMS_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Set by Accounting.")


class AddressForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AddressKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    line1 = forms.CharField(label=_("Address line 1"), max_length=200)
    line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    country = forms.CharField(label=_("Country"), max_length=2, min_length=2,
                              help_text=_("Two letters, e.g. FR."))
    is_default = forms.BooleanField(label=_("Default address"), required=False)


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=InteractionKind.choices,
                             initial=InteractionKind.CALL_IN)
    text = forms.CharField(label=_("What was said"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=5000)
    order_number = forms.CharField(label=_("About order"), max_length=32, required=False,
                                   help_text=_("Optional, e.g. SO-2026-000123."))


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.CharField(label=_("Role"), max_length=100, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
