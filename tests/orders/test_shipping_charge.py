"""The shipping charge from the rate table: a taxed charge line of the order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders.models import ShippingRate
from orders.shipping import charge_tax_rate
from orders.totals import PricedLine
from tests.factories.customers import address_data
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def rates():
    for country, up_to, price in [("FR", D("2"), "4.90"), ("FR", D("10"), "7.90"),
                                  ("FR", None, "19.00"), ("", D("5"), "12.00"),
                                  ("", None, "29.00")]:
        ShippingRate.objects.create(currency="EUR", country=country, max_weight_kg=up_to,
                                    price=D(price), free_above=D("150.00") if country else None,
                                    label="Parcel")
    ShippingRate.objects.create(currency="GBP", country="", price=D("6.00"), label="Royal")


def _order(kg: str, qty: int, *, country="FR", currency="EUR", price="10.00", **extra):
    product = stocked_product(weight_kg=D(kg), unit_price=D(price), tax_rate=D("20.00"))
    return make_order(lines=[(product, qty)], currency=currency,
                      shipping_address=address_data(country=country), **extra)


@pytest.mark.parametrize(("kg", "qty", "country", "charge"), [
    ("0.5", 4, "FR", "4.90"),    # 2 kg: the lightest band that takes it
    ("0.5", 5, "FR", "7.90"),    # 2.5 kg
    ("3", 4, "FR", "19.00"),     # 12 kg: the open band
    ("1", 4, "DE", "12.00"),     # no DE rows: every other country's
    ("1", 6, "DE", "29.00"),
])
def test_the_charge_is_the_band_of_the_weight_and_destination(rates, kg, qty, country,
                                                                 charge):
    order = _order(kg, qty, country=country)
    assert (order.shipping_label, order.shipping_net) == ("Parcel", D(charge))


def test_the_charge_is_a_taxed_line_of_the_totals(rates):
    order = _order("1", 2)  # 20.00 goods at 20 %, 4.90 shipping at 20 %
    assert order.shipping_tax_rate == D("20.00")
    assert (order.total_net, order.total_tax, order.total_gross) == (
        D("24.90"), D("4.98"), D("29.88"))


def test_shipping_is_free_from_the_amount_after_discounts(rates):
    assert _order("1", 1, price="150.00").shipping_net == D("0.00")
    discounted = _order("1", 1, price="150.00", discount="1.00")
    assert discounted.shipping_net == D("4.90")
    assert discounted.total_net == D("153.90")


def test_each_currency_has_its_own_rates(rates):
    assert _order("1", 1, currency="GBP").shipping_net == D("6.00")
    assert _order("1", 1, currency="USD").shipping_label == ""  # no rows: no charge
    assert _order("1", 1, currency="USD").total_net == D("10.00")


def test_the_charge_follows_the_tax_rate_of_the_goods_main_value():
    goods = [PricedLine(unit_price=D("10"), tax_rate=D("5.50"), quantity=3),
             PricedLine(unit_price=D("20"), tax_rate=D("20.00"), quantity=1)]
    assert charge_tax_rate(goods) == D("5.50")
    assert charge_tax_rate(goods[1:]) == D("20.00")
    assert charge_tax_rate([]) == D("0")
    tie = [PricedLine(unit_price=D("10"), tax_rate=D("5.50"), quantity=1),
           PricedLine(unit_price=D("10"), tax_rate=D("20.00"), quantity=1)]
    assert charge_tax_rate(tie) == D("20.00")
