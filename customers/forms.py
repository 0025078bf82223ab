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
    PaymentPreference,
    Standing,
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
