"""Forms of billing: decisions in the approval queue, the customer's card."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))


class NeverEchoInput(forms.TextInput):
    """A card number is never sent back to the browser, not even after an error."""

    def format_value(self, value):
        return None


class CardForm(forms.Form):
    card_number = forms.CharField(
        label=_("Card number"), max_length=30,
        widget=NeverEchoInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}))
    expiry = forms.CharField(
        label=_("Expiry (MM/YY)"), max_length=5,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": "MM/YY"}))
    cvc = forms.CharField(
        label=_("Security code"), max_length=4,
        widget=NeverEchoInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}))
    attempt_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_expiry(self) -> str:
        value = self.cleaned_data["expiry"].strip()
        match = re.fullmatch(r"(\d{2})\s*/\s*(\d{2})", value)
        if not match or not 1 <= int(match.group(1)) <= 12:
            raise forms.ValidationError(_("Enter the expiry as MM/YY."))
        month, year = int(match.group(1)), 2000 + int(match.group(2))
        today = timezone.localdate()
        if (year, month) < (today.year, today.month):
            raise forms.ValidationError(_("This card has expired."))
        return f"{month:02d}/{year % 100:02d}"

    def clean_cvc(self) -> str:
        value = self.cleaned_data["cvc"].strip()
        if not re.fullmatch(r"\d{3,4}", value):
            raise forms.ValidationError(_("Enter the 3 or 4 digits on the back of the card."))
        return value

    def clean_attempt_key(self) -> str:
        value = self.cleaned_data["attempt_key"]
        if not re.fullmatch(r"[0-9a-f]{32}", value):
            raise forms.ValidationError(_("The form is out of date; please reload the page."))
        return value
