"""Reads of order entry: the live customer and product searches, the buyer
as VAT sees it, a past order to repeat, and the lines priced and figured
as placement would (`entry_lines`, also behind saved templates' preview)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from customers.selectors import search_customers
from inventory import api as inventory_api
from inventory.models import Product
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from orders.discounts import Discount, parse_discount
from orders.models import Order
from orders.pricing import LineToPrice, no_price_error, price_lines
from orders.quote import Quote, quote
from orders.taxes import VatDecision, determine_vat, rate_for
from orders.totals import Totals

ENTRY_SEARCH_LIMIT = 10
MAX_ENTRY_LINES = 200


@dataclass
class EntryLine:
    sku: str
    quantity_raw: str
    quantity: int | None = None
    discount_raw: str = ""  # as typed: "10%" or "5.00"
    discount: Decimal | None = None  # the line's own
    order_discount: Decimal | None = None  # its share of the order's and the code's
    name: str = ""
    unit_price: Decimal | None = None
    tax_rate: Decimal | None = None
    net: Decimal | None = None  # after its own discount
    availability: list = field(default_factory=list)
    available: int = 0
    available_from: date | None = None  # a pre-order: the product's release date
    errors: list[str] = field(default_factory=list)

    @property
    def short(self) -> bool:
        return self.quantity is not None and self.quantity > self.available


@dataclass
class EntryLines:
    lines: list[EntryLine]
    # The figures placement would compute for the lines without errors.
    quote: Quote | None = None
    # The order's own discount fields: `discount`, `discount_code`.
    field_errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def totals(self) -> Totals | None:
        return self.quote.totals if self.quote is not None else None

    @property
    def goods_net(self) -> Decimal | None:
        """The priced lines' value after their own discounts."""
        if self.quote is None:
            return None
        return (sum((goods.list_net for goods in self.quote.figures.goods), Decimal("0.00"))
                - sum((off.discount for off in self.quote.discounts.lines), Decimal("0.00")))

    @property
    def has_errors(self) -> bool:
        return any(line.errors for line in self.lines)


@dataclass(frozen=True)
class EntryBuyer:
    """Who the entry page sells to, as far as VAT cares."""

    country: str
    vat_id: str
    is_business: bool


@dataclass(frozen=True)
class EntryTerms:
    """The order's own discounts as typed, and who prices it (role limits)."""

    discount: str = ""
    code: str = ""
    actor: Actor = None


def entry_buyer(data: Mapping[str, str]) -> EntryBuyer | None:
    """The buyer of a posted entry form: the picked customer's kind and VAT
    id, or the new customer's fields; None until a country is entered."""
    country = (data.get("shipping_address.country") or "").strip().upper()
    if not country:
        return None
    customer_id = data.get("customer") or ""
    customer = (Customer.objects.filter(pk=customer_id).only("kind", "vat_id").first()
                if customer_id.isdigit() else None)
    if customer is not None:
        return EntryBuyer(country=country, vat_id=customer.vat_id,
                          is_business=customer.kind == "company")
    return EntryBuyer(country=country, vat_id=data.get("customer.vat_id") or "",
                      is_business=data.get("customer.kind") == "company")


def _entry_vat(buyer: EntryBuyer | None, products: Mapping[str, inventory_api.ProductInfo]
               ) -> VatDecision | None:
    """The VAT placement will decide; None (catalogue rates) while the buyer
    is unknown or its country refused (placement reports that)."""
    if buyer is None:
        return None
    try:
        return determine_vat(ship_to_country=buyer.country, buyer_vat_id=buyer.vat_id,
                             is_business=buyer.is_business,
                             categories={p.tax_category for p in products.values()})
    except ApplicationError:
        return None


def entry_lines(skus: list[str], quantities: list[str], discounts: list[str] | None = None,
                *, customer: Customer | None = None, currency: str | None = None,
                buyer: EntryBuyer | None = None, terms: EntryTerms | None = None
                ) -> EntryLines:
    """Price the lines from the price lists (`orders.pricing`) for the
    customer and currency, at the VAT placement will apply for `buyer`, and
    figure the order as placement does (`orders.quote`: the lines' and the
    order's discounts, the code, the shipping charge, tax by rate); attach
    live availability. Reads only, the same queries for any number of
    lines: two for the products, one for the prices, one for the stock (and
    the VAT rates, a picked customer, the code and its uses, the enterer's
    roles, the shipping rates when not cached)."""
    currency = currency or settings.DEFAULT_CURRENCY
    terms = terms or EntryTerms()
    discounts = discounts or []
    raw = [(sku.strip(), (quantities[i] if i < len(quantities) else "1").strip(),
            (discounts[i] if i < len(discounts) else "").strip()[:20])
           for i, sku in enumerate(skus) if sku.strip()][:MAX_ENTRY_LINES]
    products = inventory_api.products_by_sku(skus=[sku for sku, _q, _d in raw])
    vat = _entry_vat(buyer, products)
    availability = inventory_api.availability(
        product_ids=[p.id for p in products.values()]) if products else {}
    quantity_of = [int(q) if re.fullmatch(r"\d{1,6}", q) and int(q) > 0 else None
                   for _s, q, _d in raw]
    to_price = [(sku, LineToPrice(product_id=products[sku].id, quantity=quantity))
                for (sku, _q, _d), quantity in zip(raw, quantity_of, strict=True)
                if sku in products and quantity]
    prices = dict(zip([sku for sku, _l in to_price], price_lines(
        customer=customer, currency=currency, on_date=timezone.localdate(),
        lines=[line for _s, line in to_price]), strict=True))
    lines: list[EntryLine] = []
    priced: list[tuple[EntryLine, inventory_api.ProductInfo, Discount | None]] = []
    seen = set()
    for (sku, quantity_raw, discount_raw), quantity in zip(raw, quantity_of, strict=True):
        line = EntryLine(sku=sku, quantity_raw=quantity_raw, discount_raw=discount_raw)
        product = products.get(sku)
        if sku in seen:
            line.errors.append(_("This product is already on the order."))
        seen.add(sku)
        if product is None:
            line.errors.append(_("Unknown SKU."))
        else:
            line.name = product.name
            line.tax_rate = (rate_for(vat, product.tax_category, seller_rate=product.tax_rate)
                             if vat is not None else product.tax_rate)
            line.availability = availability.get(product.id, [])
            line.available = sum(max(w.available, 0) for w in line.availability)
            if product.is_preorder_on(timezone.localdate()):
                line.available_from = product.available_from
            if not product.is_active:
                line.errors.append(_("This product is no longer sold."))
            elif quantity and prices.get(sku) is None:
                line.errors.append(no_price_error(sku=sku, currency=currency))
            if (price_found := prices.get(sku)) is not None:
                line.unit_price = price_found.unit_price
        if quantity:
            line.quantity = quantity
        else:
            line.errors.append(_("Enter a whole number above zero."))
        spec = _parsed(line.discount_raw, line.errors)
        if (product is not None and line.quantity and line.unit_price is not None
                and line.tax_rate is not None and not line.errors):
            priced.append((line, replace(product, unit_price=line.unit_price,
                                         tax_rate=line.tax_rate), spec))
        lines.append(line)
    field_errors: dict[str, list[str]] = {}
    order_discount = _parsed(terms.discount, field_errors.setdefault("discount", []))
    found = None
    if priced:
        found = quote(priced=[(product, line.quantity or 0) for line, product, _s in priced],
                      line_discounts=[spec for _l, _p, spec in priced],
                      discount=order_discount, code=terms.code,
                      customer_id=customer.pk if customer else None, currency=currency,
                      country=buyer.country if buyer else "", actor=terms.actor)
        for index, ((line, _p, _s), off, goods) in enumerate(zip(
                priced, found.discounts.lines, found.figures.goods, strict=True)):
            line.errors.extend(found.errors.get(f"lines.{index}.discount", []))
            line.discount, line.order_discount = off.discount, off.order_discount
            line.net = goods.list_net - off.discount
        for name in ("discount", "discount_code"):
            field_errors.setdefault(name, []).extend(found.errors.get(name, []))
    return EntryLines(lines=lines, quote=found,
                      field_errors={name: errors for name, errors in field_errors.items()
                                    if errors})


def _parsed(text: str, errors: list[str]) -> Discount | None:
    """A discount as typed; a bad one is an error (and no discount)."""
    try:
        return parse_discount(text)
    except ValueError as exc:
        errors.append(str(exc))
        return None


def entry_customer(customer_id: str | None) -> Customer | None:
    """The customer an entry page names (with its addresses), if any."""
    if not customer_id or not customer_id.isdigit():
        return None
    return Customer.objects.prefetch_related("addresses").filter(pk=customer_id).first()


@dataclass(frozen=True)
class Reorder:
    """What a past order gives a new one: its customer and its lines."""

    order: Order
    skus: list[str]
    quantities: list[str]


def reorder_source(order_id: str | None) -> Reorder | None:
    """The past order an entry page was asked to repeat (`?reorder=`), if any:
    its lines are priced again at today's prices with live availability."""
    if not order_id or not order_id.isdigit():
        return None
    order = (Order.objects.select_related("customer").prefetch_related("customer__addresses")
             .filter(pk=order_id).first())
    if order is None:
        return None
    lines = list(order.lines.order_by("position").values_list("sku", "quantity"))
    return Reorder(order=order, skus=[sku for sku, _q in lines],
                   quantities=[str(quantity) for _s, quantity in lines])


def entry_customer_results(query: str) -> list[Customer]:
    """Search as you type on the entry page: from two characters on."""
    if len(query) < 2:
        return []
    return list(search_customers(query=query)[:ENTRY_SEARCH_LIMIT])


def entry_product_results(query: str) -> list[tuple[Product, int]]:
    """Active products matching `query` with the units available to promise."""
    if not query:
        return []
    products = list(Product.objects.filter(is_active=True).filter(
        Q(sku__icontains=query) | Q(name__icontains=query)).order_by("sku")[:ENTRY_SEARCH_LIMIT])
    availability = inventory_api.availability(product_ids=[p.pk for p in products]) \
        if products else {}
    return [(p, sum(max(w.available, 0) for w in availability.get(p.pk, [])))
            for p in products]

