"""Which VAT an order pays, decided once at placement and recorded on the
order with its reason, so its invoice states it even after rates change.

The rules (Council Directive 2006/112/EC):

- domestic sale (goods shipped within the seller's country): the seller's
  rate;
- to a consumer in another member state: the destination's rate once the
  seller passed the EU distance-selling threshold
  (settings.VAT_DISTANCE_SELLING_THRESHOLD_PASSED, art. 33 and 59c), else
  the seller's rate;
- to a business in another member state with a well-formed VAT id of a
  member state other than the seller's: reverse charge, 0 %, the buyer
  accounts for the VAT (art. 196; the invoice says so, art. 226(11a));
- goods shipped outside the EU: an exempt export, 0 % (art. 146).

The seller's rate of a product is its catalogue `tax_rate` (kept in the
seller's country); other member states' rates come from
`inventory.VatRate` by the product's tax category.

Shipping charges follow the goods (art. 78): `shipping_rate` gives the rate
of the largest share of the goods' net amount (ties: the higher rate), the
rule the shipping charge line applies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.models import CustomerKind
from inventory import api as inventory_api
from oms.lib.errors import ApplicationError
from oms.lib.vat import is_known_country, is_member_state, normalize_vat_id, vat_id_country

ZERO_RATE = Decimal("0.00")


class VatReason(models.TextChoices):
    # Placed before VAT was decided per order: the catalogue rate applied.
    CATALOGUE = "catalogue", _("Catalogue rate")
    DOMESTIC = "domestic", _("Domestic sale")
    DISTANCE_SALE_ORIGIN = "distance_origin", _("Distance sale taxed in the seller's country")
    DISTANCE_SALE_DESTINATION = "distance_destination", _(
        "Distance sale taxed in the destination country")
    REVERSE_CHARGE = "reverse_charge", _("Intra-community supply, reverse charge")
    EXPORT = "export", _("Export outside the EU, exempt")


# The legal mentions art. 226(11) and (11a) require, in English; the invoice
# prints them in the buyer's language (they are marked for translation).
MENTIONS: dict[str, Promise] = {
    VatReason.REVERSE_CHARGE: _(
        "Reverse charge: VAT to be accounted for by the recipient, "
        "Art. 196 of Council Directive 2006/112/EC."),
    VatReason.EXPORT: _(
        "VAT exempt: export of goods outside the EU, "
        "Art. 146 of Council Directive 2006/112/EC."),
}


@dataclass(frozen=True)
class Seller:
    country: str
    distance_threshold_passed: bool

    @classmethod
    def from_settings(cls) -> Seller:
        return cls(country=settings.SELLER_COUNTRY.upper(),
                   distance_threshold_passed=settings.VAT_DISTANCE_SELLING_THRESHOLD_PASSED)


@dataclass(frozen=True)
class VatDecision:
    """The VAT treatment of one order."""

    reason: str
    seller_country: str
    destination_country: str
    buyer_vat_id: str = ""
    # The country whose rates apply ("" when the sale bears no VAT).
    rate_country: str = ""
    # Rate per tax category of rate_country (empty: 0 % for every category).
    rates: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def zero_rated(self) -> bool:
        return self.reason in (VatReason.REVERSE_CHARGE, VatReason.EXPORT)

    @property
    def uses_seller_rates(self) -> bool:
        return self.rate_country == self.seller_country and not self.zero_rated

    @property
    def mention(self) -> str:
        """The legal mention in English (render `mention_for(reason)` to translate)."""
        return str(MENTIONS.get(self.reason, ""))


def mention_for(reason: str) -> str:
    """The legal mention of a reason in the active language ("" when none)."""
    return str(MENTIONS.get(reason, ""))


# Rates per tax category of some countries, read already (`rate_countries`).
RateTables = Mapping[str, Mapping[str, Decimal]]


def rate_countries(ship_to_country: str, *, seller: Seller | None = None) -> list[str]:
    """The countries whose rates a sale shipped to `ship_to_country` may
    apply, whoever buys: the seller's and, within the EU, the destination's;
    none for an export (placement reads their rows with its customer)."""
    seller = seller or Seller.from_settings()
    country = (ship_to_country or "").upper()
    if not is_member_state(country):
        return []
    return sorted({seller.country, country})


def determine_vat(*, seller: Seller | None = None, ship_to_country: str,
                  buyer_vat_id: str = "", is_business: bool = False,
                  categories: Iterable[str] = (), rates: RateTables | None = None
                  ) -> VatDecision:
    """Decide the VAT of a sale of goods shipped to `ship_to_country`.

    `categories`: the tax categories of the goods; each has a rate in the
    decision (`rate_for`). An unknown country, or a destination whose rates
    the table lacks, is a field error on `shipping_address.country`.
    `rates`: the tables of `rate_countries` read already; None: read here.
    """
    seller = seller or Seller.from_settings()
    country = (ship_to_country or "").upper()
    if not is_known_country(country):
        message = gettext("Unknown country code %(code)s.") % {"code": country or "—"}
        raise ApplicationError(gettext("The order has errors; nothing was saved."),
                               field_errors={"shipping_address.country": [message]})
    vat_id = normalize_vat_id(buyer_vat_id)
    if not is_member_state(country):
        return VatDecision(reason=VatReason.EXPORT, seller_country=seller.country,
                           destination_country=country)
    if country == seller.country:
        return _taxed(VatReason.DOMESTIC, seller, country, seller.country, categories, rates)
    buyer_state = vat_id_country(vat_id) if vat_id else None
    if is_business and buyer_state is not None and buyer_state != seller.country:
        return VatDecision(reason=VatReason.REVERSE_CHARGE, seller_country=seller.country,
                           destination_country=country, buyer_vat_id=vat_id)
    if seller.distance_threshold_passed:
        return _taxed(VatReason.DISTANCE_SALE_DESTINATION, seller, country, country, categories,
                      rates)
    return _taxed(VatReason.DISTANCE_SALE_ORIGIN, seller, country, seller.country, categories,
                  rates)


def _taxed(reason: str, seller: Seller, destination: str, rate_country: str,
           categories: Iterable[str], rates: RateTables | None) -> VatDecision:
    table = (inventory_api.vat_rates(country=rate_country) if rates is None
             else rates[rate_country])
    wanted = set(categories)
    missing = sorted(wanted - set(table))
    # The seller's own rates are the catalogue's (`rate_for(seller_rate=)`).
    if rate_country == seller.country:
        wanted -= set(missing)
    elif missing:
        message = _missing_rate(rate_country, missing)
        raise ApplicationError(message, field_errors={"shipping_address.country": [message]},
                               code="vat_rate_missing")
    return VatDecision(reason=reason, seller_country=seller.country,
                       destination_country=destination, rate_country=rate_country,
                       rates={category: table[category] for category in wanted})


def _missing_rate(country: str, categories: list[str]) -> str:
    return gettext("No VAT rate for %(country)s (%(categories)s): ask an administrator to "
                   "add it.") % {"country": country, "categories": ", ".join(categories)}


def rate_for(decision: VatDecision, category: str, *, seller_rate: Decimal | None = None
             ) -> Decimal:
    """The rate of goods of `category` under `decision`.

    `seller_rate`: the product's catalogue rate, which applies where the
    seller's rates do (a domestic sale, a distance sale below the threshold).
    """
    if decision.zero_rated:
        return ZERO_RATE
    if decision.uses_seller_rates and seller_rate is not None:
        return seller_rate
    if category not in decision.rates:
        raise ApplicationError(_missing_rate(decision.rate_country, [category]),
                               code="vat_rate_missing")
    return decision.rates[category]


def shipping_rate(lines: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """The rate of a shipping charge: that of the goods. `lines` are
    (rate, net) of the goods lines as the order applies them; with mixed
    rates the charge takes the rate of the largest net share (a tie takes
    the higher rate); no goods: 0."""
    nets: dict[Decimal, Decimal] = defaultdict(Decimal)
    for rate, net in lines:
        nets[rate] += net
    if not nets:
        return ZERO_RATE
    return max(nets, key=lambda rate: (nets[rate], rate))


def decide_for_order(order, categories: Iterable[str], *, rates: RateTables | None = None
                     ) -> VatDecision:
    """The decision for an order being placed (its customer and shipping
    address set), recorded onto its `vat_*` fields (the caller saves).
    `rates`: as `determine_vat`'s."""
    customer = order.customer
    decision = determine_vat(
        ship_to_country=(order.shipping_address or {}).get("country", ""),
        buyer_vat_id=customer.vat_id, is_business=customer.kind == CustomerKind.COMPANY,
        categories=categories, rates=rates)
    order.vat_reason = decision.reason
    order.vat_mention = decision.mention
    order.vat_buyer_id = decision.buyer_vat_id or normalize_vat_id(customer.vat_id)
    order.vat_seller_country = decision.seller_country
    order.vat_destination_country = decision.destination_country
    return decision


# Order fields the decision writes (for save(update_fields=...)).
ORDER_VAT_FIELDS = ["vat_reason", "vat_mention", "vat_buyer_id", "vat_seller_country",
                    "vat_destination_country"]


def with_rates(priced: list[tuple[inventory_api.ProductInfo, int]], decision: VatDecision
               ) -> list[tuple[inventory_api.ProductInfo, int]]:
    """The products with the tax rate `decision` applies to each instead of
    the catalogue's (placement, and the previews that show what it will do)."""
    return [(replace(product, tax_rate=rate_for(decision, product.tax_category,
                                                 seller_rate=product.tax_rate)), quantity)
            for product, quantity in priced]
