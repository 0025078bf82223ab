"""Form pieces shared by the apps."""

from __future__ import annotations

from typing import Any

from django import forms


class NeverEchoInput(forms.TextInput):
    """A card number (or security code) is never sent back to the browser, not
    even with the form's errors; the views that take one are also
    `sensitive_post_parameters` (kept out of error reports) and `never_cache`."""

    def format_value(self, value: Any) -> None:
        return None
