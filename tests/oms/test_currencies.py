"""Exchange rates and the one conversion function (oms.currencies)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from oms.currencies import MissingRate, Rates, convert
from oms.models import ExchangeRate

pytestmark = pytest.mark.django_db


def rate(base: str, quote: str, value: str, valid_from: date = date(2026, 1, 1)) -> ExchangeRate:
    return ExchangeRate.objects.create(base=base, quote=quote, rate=Decimal(value),
                                       valid_from=valid_from)


def test_convert_uses_the_rate_of_the_pair_and_rounds_to_the_cent():
    rate("USD", "EUR", "0.91234567")
    assert convert(Decimal("100.00"), "USD", "EUR", date(2026, 6, 1)) == Decimal("91.23")


def test_the_inverse_of_a_stored_pair_converts_the_other_way():
    rate("EUR", "GBP", "0.80")
    assert convert(Decimal("10.00"), "GBP", "EUR", date(2026, 6, 1)) == Decimal("12.50")


def test_the_newest_rate_valid_on_the_date_wins_and_a_future_one_is_ignored():
    rate("USD", "EUR", "0.50", date(2026, 1, 1))
    rate("USD", "EUR", "0.80", date(2026, 3, 1))
    rate("USD", "EUR", "2.00", date(2026, 9, 1))
    assert convert(Decimal("10.00"), "USD", "EUR", date(2026, 2, 1)) == Decimal("5.00")
    assert convert(Decimal("10.00"), "USD", "EUR", date(2026, 6, 1)) == Decimal("8.00")


def test_the_same_currency_needs_no_rate():
    assert convert(Decimal("12.34"), "EUR", "EUR", date(2026, 6, 1)) == Decimal("12.34")


def test_no_rate_is_a_clear_error_not_a_guess():
    rate("USD", "EUR", "0.50", date(2026, 9, 1))  # not valid yet on the date asked
    with pytest.raises(MissingRate) as caught:
        convert(Decimal("10.00"), "USD", "EUR", date(2026, 6, 1))
    assert caught.value.message.startswith("No exchange rate from USD to EUR on 2026-06-01.")
    assert caught.value.code == "missing_exchange_rate"


def test_floats_are_refused():
    rate("USD", "EUR", "0.50")
    with pytest.raises(TypeError):
        convert(10.0, "USD", "EUR", date(2026, 6, 1))  # type: ignore[arg-type]


def test_one_rates_reads_each_pair_once(django_assert_num_queries):
    rate("USD", "EUR", "0.50")
    rates = Rates(date(2026, 6, 1))
    with django_assert_num_queries(1):
        for _ in range(3):
            rates.convert(Decimal("2.00"), "USD", "EUR")


def test_the_admin_refuses_an_unknown_currency_and_saves_nothing(client_for):
    client = client_for("Admin")
    response = client.post(reverse("admin:oms_exchangerate_add"), {
        "base": "XYZ", "quote": "EUR", "rate": "1.5", "valid_from": "2026-01-01"})
    assert response.status_code == 200
    assert "base" in response.context["adminform"].form.errors
    assert not ExchangeRate.objects.exists()


def test_the_admin_adds_a_rate(client_for):
    client = client_for("Admin")
    response = client.post(reverse("admin:oms_exchangerate_add"), {
        "base": "USD", "quote": "EUR", "rate": "0.9", "valid_from": "2026-01-01"})
    assert response.status_code == 302
    assert ExchangeRate.objects.get().rate == Decimal("0.9")
    listing = client.get(reverse("admin:oms_exchangerate_changelist"))
    assert listing.status_code == 200 and "0.9" in listing.content.decode()
