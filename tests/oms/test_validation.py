"""oms.lib.validation: typed inputs parsed once, field errors under input paths."""

from __future__ import annotations

from typing import Annotated

import pytest
from django.utils import translation

from oms.lib.errors import ApplicationError
from oms.lib.validation import Input, LongText, Text, errors_onto_form, field_errors


class _Address(Input):
    city: Annotated[str, Text(10, required=True)]
    note: Annotated[str, LongText(5)] = ""


class _Order(Input):
    reference: Annotated[str, Text(8, required=True)]
    address: _Address


def test_parse_collapses_whitespace_and_refuses_unknown_fields():
    order = _Order.parse({"reference": "  A   1 ", "address": {"city": " Lyon ", "note": " x "}})
    assert (order.reference, order.address.city, order.address.note) == ("A 1", "Lyon", "x")
    with pytest.raises(ApplicationError) as refused:
        _Order.parse({"reference": "A", "address": {"city": "Lyon"}, "total": "1.00"})
    assert list(refused.value.field_errors) == ["total"]


def test_every_error_is_keyed_by_its_path_with_our_own_words():
    with pytest.raises(ApplicationError) as refused:
        _Order.parse({"reference": "", "address": {"city": "x" * 11, "note": 5}},
                     prefix="orders.0.")
    assert refused.value.field_errors == {
        "orders.0.reference": ["This field is required."],
        "orders.0.address.city": ["At most 10 characters."],
        "orders.0.address.note": ["Enter text."],
    }


def test_messages_follow_the_active_language():
    with translation.override("fr"), pytest.raises(ApplicationError) as refused:
        _Order.parse({"address": {"city": "Lyon"}})
    assert refused.value.field_errors["reference"] != ["This field is required."]


def test_ninja_locations_lose_the_request_part_and_parameter_name():
    errors = [{"loc": ("body", "payload", "lines", 0, "sku"), "type": "missing"},
              {"loc": ("header", "Idempotency-Key"), "type": "missing"}]
    assert list(field_errors(errors)) == ["lines.0.sku", "Idempotency-Key"]


def test_errors_onto_form_puts_known_paths_on_fields_and_the_rest_on_top():
    from django import forms

    class _Form(forms.Form):
        city = forms.CharField(required=False)
        sku = forms.CharField(required=False)

    form = _Form({})
    assert form.is_valid()
    errors_onto_form(form, ApplicationError("No.", field_errors={
        "address.city": ["Bad city."], "product": ["Unknown."], "other": ["Other."]}),
        prefix="address.", names={"product": "sku"})
    assert form.errors == {"city": ["Bad city."], "sku": ["Unknown."], "__all__": ["Other."]}
