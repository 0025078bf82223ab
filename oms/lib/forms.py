"""Form pieces shared by the apps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from oms.lib.submissions import KEY_PATTERN, new_submission_key


class NeverEchoInput(forms.TextInput):
    """A card number (or security code) is never sent back to the browser, not
    even with the form's errors; the views that take one are also
    `sensitive_post_parameters` (kept out of error reports) and `never_cache`."""

    def format_value(self, value: Any) -> None:
        return None


class SubmissionKeyField(forms.CharField):
    """The one-time key of a form that writes money (hidden): a new one each
    time the form is rendered, echoed back when the form is shown again with
    its errors (nothing was written). See `oms.lib.submissions`."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("initial", new_submission_key)  # called for every new form
        kwargs.setdefault("label", _("Form key"))
        kwargs.setdefault("error_messages", {"required": _(
            "This form is out of date; reload the page and enter it again.")})
        super().__init__(max_length=64, **kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not KEY_PATTERN.fullmatch(value):
            raise forms.ValidationError(self.error_messages["required"], code="invalid")
        return value


class SubmissionForm(forms.Form):
    """A form that is only a button (apply the customer's credit): its key."""

    submission_key = SubmissionKeyField()


class OneTimeCodeForm(forms.Form):
    """The six digits an authenticator app shows (the second factor)."""

    token = forms.RegexField(
        label=_("Code from your authenticator app"), regex=r"^\d{6}$", strip=True,
        error_messages={"invalid": _("Enter the six digits your app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "maxlength": "6", "autofocus": True}))
