"""One money formatter for pages, PDFs, e-mails and reports."""

from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from oms.lib.money import format_money


def test_format_money_follows_the_active_language():
    with translation.override("en"):
        assert format_money(Decimal("1234.5"), "EUR") == "€1,234.50"
    with translation.override("fr"):
        assert format_money(Decimal("1234.5"), "EUR") == "1\u202f234,50\xa0€"


def test_format_money_with_code_shows_two_decimals_and_the_iso_code():
    with translation.override("en"):
        assert format_money(Decimal("1234.5"), "EUR", code=True) == "1,234.50 EUR"
        assert format_money(Decimal("7"), "JPY", code=True) == "7.00 JPY"


def test_format_money_leaves_a_missing_amount_empty():
    assert format_money(None, "EUR") == ""
    assert format_money("", "EUR") == ""


def test_money_filter_and_service_text_agree():
    with translation.override("fr"):
        rendered = Template("{% load oms_tags %}{{ amount|money:'EUR' }}").render(
            Context({"amount": Decimal("99.90")}))
        assert rendered == format_money(Decimal("99.90"), "EUR")
