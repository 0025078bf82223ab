"""Forms of billing: decisions in the approval queue, the customer's card,
payments against invoices and credit notes."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TypedDict, cast

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import SettlementMethod
from billing.providers import PaymentError
from billing.services import (
    MAX_REFERENCE,
    RECORDABLE_METHODS,
    CreditLineInput,
    CreditNoteInput,
    InvoicePaymentInput,
)
from oms.lib.errors import ApplicationError
from oms.lib.forms import NeverEchoInput, SubmissionKeyField
from oms.lib.validation import errors_onto_form


class DecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))


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

    def add_payment_error(self, exc: PaymentError) -> None:
        """The gateway's refusal of the details, on the field it names."""
        for field, errors in exc.field_errors.items():
            for error in errors:
                self.add_error(field if field in self.fields else None, error)
        if not exc.field_errors:
            self.add_error(None, exc.message)

    def renew_attempt(self, attempt_key: str) -> None:
        """A fresh key after a refused attempt: the next submit is a new
        authorisation. The entered details stay (the widgets never echo the
        card number and code)."""
        data = QueryDict(mutable=True)
        data.update(self.data)
        data["attempt_key"] = attempt_key
        self.data = data


class InputForm(forms.Form):
    """A form that builds a service's typed input in `clean()`: the input's
    rules are the only ones, and its field errors land on the form's fields.
    A valid form has `self.input`, ready for the service."""

    input_class: type

    def build_input(self, data: dict):
        return self.input_class(**data)

    def clean(self) -> dict:
        cleaned = super().clean()
        assert cleaned is not None  # forms.Form.clean returns cleaned_data
        # The one-time key goes to the service beside the input, not in it; its
        # own error (an out-of-date page) does not hide the input's.
        keys = {name for name, field in self.fields.items()
                if isinstance(field, SubmissionKeyField)}
        if not set(self.errors) - keys:
            data = {name: value for name, value in cleaned.items() if name not in keys}
            try:
                self.input = self.build_input(data)
            except ApplicationError as exc:
                errors_onto_form(self, exc)
        return cleaned


class _AmountField(TypedDict):
    max_digits: int
    decimal_places: int
    widget: forms.Widget


_AMOUNT: _AmountField = {"max_digits": 14, "decimal_places": 2,
           "widget": forms.NumberInput(attrs={"step": "0.01", "min": "0.01",
                                              "inputmode": "decimal"})}


class InvoicePaymentForm(InputForm):
    """Money received against an invoice. Nothing is written unless valid,
    and only once per rendered form (its one-time key)."""

    input_class = InvoicePaymentInput

    amount = forms.DecimalField(label=_("Amount"), **_AMOUNT)
    method = forms.ChoiceField(
        label=_("Method"), initial=SettlementMethod.BANK_TRANSFER,
        choices=[(m, SettlementMethod(m).label) for m in RECORDABLE_METHODS])
    received_on = forms.DateField(label=_("Received on"),
                                  widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Reference"), max_length=MAX_REFERENCE, required=False,
                                help_text=_("Bank statement line, cheque number..."))
    submission_key = SubmissionKeyField()


class CreditNoteForm(InputForm):
    """One credited line (net amount at one of the invoice's tax rates),
    issued once per rendered form (its one-time key)."""

    description = forms.CharField(label=_("What is credited"), max_length=200)
    net = forms.DecimalField(label=_("Net amount"), **_AMOUNT)
    tax_rate = forms.TypedChoiceField(label=_("Tax rate"), coerce=Decimal)
    reason = forms.CharField(label=_("Reason"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    submission_key = SubmissionKeyField()

    def __init__(self, *args, rates: list[Decimal], **kwargs):
        super().__init__(*args, **kwargs)
        tax_rate = cast(forms.ChoiceField, self.fields["tax_rate"])
        tax_rate.choices = [(str(rate), f"{rate} %") for rate in rates]

    def build_input(self, data: dict) -> CreditNoteInput:
        return CreditNoteInput(reason=data["reason"], lines=(CreditLineInput(
            description=data["description"], net=data["net"], tax_rate=data["tax_rate"]),))
