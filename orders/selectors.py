"""Reads of the orders app: the order list, the order detail and the entry
page's live searches and priced lines.

The list must stay fast at a million orders: no COUNT(*) (a "has next"
page fetches one extra row), one query per page whatever its size
(customer joined), filters and sorts that match the indexes in
orders.models, and search served by trigram / pattern indexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Customer, CustomerEvent, Interaction
from customers.selectors import search_customers
from inventory import api as inventory_api
from inventory.models import Product, Reservation
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.paging import HasNextPage, has_next_page_by_keys
from oms.lib.search import Hit
from orders.address_request_models import AddressChangeRequest, AddressRequestStatus
from orders.backorders import backorder_expected_dates
from orders.discounts import Discount, parse_discount
from orders.models import (
    CLOSED,
    Channel,
    DiscountCode,
    Order,
    OrderEvent,
    OrderFeedback,
    OrderLine,
    OrderStatus,
    PriceList,
    PriceListEntry,
    Return,
    ReturnLine,
    ReturnStatus,
)
from orders.pricing import LineToPrice, no_price_error, price_lines
from orders.quote import Quote, quote
from orders.taxes import VatDecision, determine_vat, rate_for
from orders.totals import Totals

ENTRY_SEARCH_LIMIT = 10
MAX_ENTRY_LINES = 200

# ?sort= value -> ORDER BY; each is unique (id breaks ties) so pages are
# stable, and each matches an index (scanned forwards or backwards). Orders
# never placed (drafts) sort first by -placed: PostgreSQL's NULLS FIRST for
# DESC, which keeps the index usable.
SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-placed": ("-placed_at", "-id"),
    "placed": ("placed_at", "id"),
    "number": ("number",),  # unique
    "-number": ("-number",),
    "-total": ("-total_gross", "-id"),
    "total": ("total_gross", "id"),
}
DEFAULT_SORT = "-created"
PAGE_SIZES = (10, 25, 50, 100)
NUMBER_PREFIX = "SO-"
MAX_CUSTOMER_MATCHES = 500


@dataclass(frozen=True)
class OrderFilters:
    query: str = ""
    customer_id: int | None = None
    status: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_from_params(params: Mapping[str, str]) -> OrderFilters:
    """The order list's filters from its query string (?q, status, channel,
    customer, from, to, sort); unknown values are ignored. Shared by the list
    and reporting's CSV export so both select exactly the same orders."""
    status = params.get("status", "")
    channel = params.get("channel", "")
    sort = params.get("sort", DEFAULT_SORT)
    try:
        customer_id = int(params.get("customer") or 0) or None
    except ValueError:
        customer_id = None
    return OrderFilters(
        query=params.get("q", "").strip()[:100],
        customer_id=customer_id,
        status=status if status in OrderStatus.values else "",
        channel=channel if channel in Channel.values else "",
        date_from=_parse_date(params.get("from")), date_to=_parse_date(params.get("to")),
        sort=sort if sort in SORTS else DEFAULT_SORT)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _list_rows() -> QuerySet[Order]:
    """The columns and join the list shows."""
    return Order.objects.select_related("customer").defer(
        "notes", "hold_note", "billing_address", "shipping_address",
        "customer__notes")


def search_orders(filters: OrderFilters) -> QuerySet[Order]:
    return _filtered_orders(_list_rows(), filters)


def _filtered_orders(orders: QuerySet[Order], filters: OrderFilters) -> QuerySet[Order]:
    query = " ".join(filters.query.split())
    if query.upper().startswith(NUMBER_PREFIX):
        # A number or its beginning: LIKE 'SO-2026-00%' on the pattern index.
        orders = orders.filter(number__startswith=query.upper())
    elif query:
        # A fragment of the number (trigram index) or any customer whose
        # name, e-mail or phone matches (trigram indexes on customers).
        # With the customer ids spelled out PostgreSQL combines the two index
        # scans (BitmapOr); a sub-select would make it filter the whole table.
        customers = search_customers(query=query).order_by().values_list("pk", flat=True)
        customer_ids: Collection[int] = list(customers[:MAX_CUSTOMER_MATCHES + 1])
        if len(customer_ids) > MAX_CUSTOMER_MATCHES:  # vague query: let the planner choose
            customer_ids = customers
        orders = orders.filter(Q(number__icontains=query) | Q(customer_id__in=customer_ids))
    if filters.customer_id:
        orders = orders.filter(customer_id=filters.customer_id)
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.channel:
        orders = orders.filter(channel=filters.channel)
    if filters.date_from:
        orders = orders.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        orders = orders.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    sort = SORTS.get(filters.sort, SORTS[DEFAULT_SORT])
    return orders.order_by(*sort)


def order_page(filters: OrderFilters, *, page: int = 1, page_size: int = 25) -> HasNextPage:
    if page_size not in PAGE_SIZES:
        page_size = 25
    # Page on the orders' indexes alone, then join the customers of the page
    # only: a plain OFFSET joined every skipped order to its customer
    # (page 500 at a million orders, docs/benchmarks.md). Still one query.
    return has_next_page_by_keys(_filtered_orders(Order.objects.all(), filters),
                                 rows=_list_rows(), page=page, page_size=page_size)


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    lines: list[OrderLine]
    events: list[OrderEvent]


def get_order(*, order_id: int) -> Order:
    return Order.objects.select_related("customer").get(pk=order_id)


def order_detail(*, order_id: int) -> OrderDetail:
    order = Order.objects.select_related("customer", "created_by", "api_token").get(pk=order_id)
    lines = list(order.lines.order_by("position"))
    events = list(order.events.select_related("actor").order_by("created_at", "id"))
    stock: dict[int, list[tuple[str, int, str]]] = {}
    shipped: dict[int, int] = {}
    for line_id, code, quantity, kind, status in (
            Reservation.objects.filter(order_id=order.pk, status__in=[
                Reservation.Status.ACTIVE, Reservation.Status.CONSUMED])
            .order_by("order_line_id", "warehouse__code")
            .values_list("order_line_id", "warehouse__code", "quantity", "kind", "status")):
        if status == Reservation.Status.CONSUMED:
            shipped[line_id] = shipped.get(line_id, 0) + quantity
        else:
            stock.setdefault(line_id, []).append((code, quantity, kind))
    for line in lines:
        # [(warehouse code, quantity, kind)] of the line's active reservations
        line.reservations = stock.get(line.pk, [])  # type: ignore[attr-defined]  # for the template
        line.shipped_quantity = shipped.get(line.pk, 0)  # type: ignore[attr-defined]
        # Units a partial cancel could still drop (less any picked: the service says).
        line.open_quantity = (line.quantity - line.cancelled_quantity  # type: ignore[attr-defined]
                              - line.shipped_quantity)  # type: ignore[attr-defined]
    _add_expected_dates(order, lines)
    return OrderDetail(order=order, lines=lines, events=events)


def _add_expected_dates(order: Order, lines: list[OrderLine]) -> None:
    """Lines waiting for stock get `waiting_units` and `expected_on` (the date
    the stock that covers them is expected, None: nothing ordered covers
    them). No query for an order that waits for nothing."""
    for line in lines:
        line.waiting = None  # type: ignore[attr-defined]  # for the template
    if not any(line.backordered_quantity for line in lines):
        return
    dates = backorder_expected_dates(order=order)
    for line in lines:
        if line.pk in dates:
            line.waiting = {"expected_on": dates[line.pk]}  # type: ignore[attr-defined]


# --- order entry ---------------------------------------------------------------

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


def search_hits(query: str, limit: int) -> list[Hit]:
    """Orders for the search box: by number, or a fragment of it (trigram index)."""
    orders = Order.objects.select_related("customer").only(
        "pk", "number", "status", "created_at", "customer__name")
    if query.upper().startswith(NUMBER_PREFIX):
        orders = orders.filter(number__startswith=query.upper())
    else:
        orders = orders.filter(number__icontains=query)
    return [Hit(order.number, f"{order.customer.name} · {order.get_status_display()}",
                reverse("orders:detail", args=[order.pk]))
            for order in orders.order_by("-created_at", "-id")[:limit]]


def exact_hit(query: str) -> str | None:
    order_id = Order.objects.filter(number=query.upper()).values_list("pk", flat=True).first()
    return reverse("orders:detail", args=[order_id]) if order_id else None


def return_search_hits(query: str, limit: int) -> list[Hit]:
    """Returns for the search box: by number or a fragment of it (trigram
    index). Every return number has digits: text without any finds none and
    costs no query."""
    if not any(char.isdigit() for char in query):
        return []
    returns = (Return.objects.select_related("order").only("pk", "number", "status",
                                                            "created_at", "order__number")
               .filter(number__icontains=query))
    return [Hit(ret.number, f"{ret.order.number} · {ret.get_status_display()}",
                reverse("orders:return_detail", args=[ret.pk]))
            for ret in returns.order_by("-created_at", "-id")[:limit]]


def return_exact_hit(query: str) -> str | None:
    return_id = Return.objects.filter(number=query.upper()).values_list("pk", flat=True).first()
    return reverse("orders:return_detail", args=[return_id]) if return_id else None


# --- Units that follow later (backordered), with the date they are expected.

# Filled at start-up by whichever app knows when goods arrive (purchase
# orders): product ids -> the expected arrival date of each product that has
# one. Unset, no date is promised.
_expected_arrivals: Callable[[Collection[int]], Mapping[int, date]] | None = None


def register_expected_arrivals(provider: Callable[[Collection[int]], Mapping[int, date]]
                               ) -> None:
    """Let a higher app (purchasing) say when waiting products arrive."""
    global _expected_arrivals
    _expected_arrivals = provider


def expected_arrivals(*, product_ids: Collection[int]) -> Mapping[int, date]:
    """When each product is expected in stock; a product without a known date
    is absent (the customer is then told "we will tell you")."""
    if _expected_arrivals is None or not product_ids:
        return {}
    return _expected_arrivals(product_ids)


@dataclass(frozen=True)
class FollowingUnits:
    line: OrderLine
    quantity: int
    expected: date | None


def following_units(order: Order) -> list[FollowingUnits]:
    """The order's backordered units, line by line, with the expected date
    where one is known (for e-mails, the packing slip and the order page)."""
    lines = [line for line in order.lines.all() if line.backordered_quantity > 0]
    expected = expected_arrivals(product_ids={line.product_id for line in lines})
    return [FollowingUnits(line=line, quantity=line.backordered_quantity,
                           expected=expected.get(line.product_id))
            for line in sorted(lines, key=lambda li: li.position)]


CUSTOMER_CARD_EMAILS = 20


def emails_to_customer(*, customer_id: int) -> list[OrderEvent]:
    """The latest e-mails sent to the customer about its orders, subject and
    body as sent (one query, over the customer's orders)."""
    return list(OrderEvent.objects.filter(order__customer_id=customer_id, kind="email")
                .select_related("order").only("pk", "created_at", "data", "reason",
                                              "order__id", "order__number")
                .order_by("-created_at", "-id")[:CUSTOMER_CARD_EMAILS])


CUSTOMER_CARD_FEEDBACK = 10


def order_feedback(*, order_id: int) -> OrderFeedback | None:
    """The customer's rating of the order, if given."""
    return OrderFeedback.objects.filter(order_id=order_id).first()


def customer_feedback(*, customer_id: int) -> tuple[list[OrderFeedback], Decimal | None]:
    """The customer's latest ratings (with their order's number) and the
    average of all of them: two queries."""
    answers = OrderFeedback.objects.filter(order__customer_id=customer_id)
    average = answers.aggregate(average=Avg("rating"))["average"]
    latest = list(answers.select_related("order").only(
        "pk", "rating", "comment", "submitted_at", "order__id", "order__number")
        .order_by("-submitted_at", "-id")[:CUSTOMER_CARD_FEEDBACK])
    return latest, (Decimal(average).quantize(Decimal("0.1")) if average is not None else None)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    title: str
    summary: str
    order: Order | None = None


def customer_timeline(*, customer_id: int, limit: int = 40) -> list[TimelineEntry]:
    """One timeline of everything that happened with a customer, newest
    first: its orders' events (status, payments, credit notes, e-mails),
    calls and notes, and changes of its terms. Three queries."""
    order_events = (OrderEvent.objects.filter(order__customer_id=customer_id)
                    .select_related("order", "actor").order_by("-created_at", "-id")[:limit])
    customer_events = (CustomerEvent.objects.filter(customer_id=customer_id)
                       .select_related("actor").order_by("-created_at", "-id")[:limit])
    interactions = (Interaction.objects.filter(customer_id=customer_id)
                    .select_related("actor").order_by("-created_at", "-id")[:limit])
    entries = [TimelineEntry(event.created_at, event.actor_label,
                             _order_event_title(event), event.summary, event.order)
               for event in order_events]
    entries += [TimelineEntry(event.created_at, event.actor_label, event.get_kind_display(),
                              event.summary) for event in customer_events]
    entries += [TimelineEntry(entry.created_at, entry.actor_label, entry.get_kind_display(),
                              entry.text) for entry in interactions]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def _order_event_title(event: OrderEvent) -> str:
    if event.to_status:
        return _("%(from)s → %(to)s") % {"from": event.from_label or "—", "to": event.to_label}
    if event.kind == "email":
        return _("E-mail: %(subject)s") % {"subject": event.data.get("subject", "")}
    return event.get_kind_display()


def price_lists() -> QuerySet[PriceList]:
    """Every price list with its scope and number of prices, defaults first."""
    return (PriceList.objects.select_related("customer", "customer_group")
            .annotate(price_count=Count("entries"))
            .order_by(F("customer_id").asc(nulls_first=True),
                      F("customer_group_id").asc(nulls_first=True), "currency", "valid_from",
                      "pk"))


def price_list_entries(*, price_list: PriceList) -> QuerySet[PriceListEntry]:
    return (price_list.entries.select_related("product")
            .order_by("product__sku", "min_quantity"))


# --- returns ---------------------------------------------------------------------

@dataclass(frozen=True)
class ReturnableLine:
    order_line_id: int
    sku: str
    name: str
    shipped: int
    returned: int  # on returns that are not refused

    @property
    def returnable(self) -> int:
        return max(self.shipped - self.returned, 0)


@dataclass(frozen=True)
class Returnable:
    lines: list[ReturnableLine]
    shipped_at: datetime | None  # the last shipment's
    window_closed: bool  # RETURN_WINDOW_DAYS after shipped_at
    warehouse_id: int | None  # where the goods left from (the most units)

    @property
    def any_returnable(self) -> bool:
        return any(line.returnable for line in self.lines)


def returnable_lines(*, order_id: int) -> Returnable:
    """Per order line: shipped units (consumed reservations), units on
    returns that are not refused, and what can still be returned."""
    shipped: dict[int, int] = {}
    by_warehouse: dict[int, int] = {}
    shipped_at: datetime | None = None
    for line_id, warehouse_id, quantity, updated_at in (
            Reservation.objects.filter(order_id=order_id, status=Reservation.Status.CONSUMED)
            .values_list("order_line_id", "warehouse_id", "quantity", "updated_at")):
        shipped[line_id] = shipped.get(line_id, 0) + quantity
        by_warehouse[warehouse_id] = by_warehouse.get(warehouse_id, 0) + quantity
        shipped_at = max(shipped_at, updated_at) if shipped_at else updated_at
    returned = dict(
        ReturnLine.objects.filter(ret__order_id=order_id)
        .exclude(ret__status=ReturnStatus.REFUSED)
        .values("order_line_id").annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units"))
    lines = [ReturnableLine(order_line_id=line.pk, sku=line.sku, name=line.name,
                            shipped=shipped.get(line.pk, 0), returned=returned.get(line.pk, 0))
             for line in OrderLine.objects.filter(order_id=order_id).order_by("position")]
    window_closed = shipped_at is not None and timezone.now() > shipped_at + timedelta(
        days=settings.RETURN_WINDOW_DAYS)
    source: int | None = None
    if by_warehouse:
        source = max(by_warehouse, key=lambda w: (by_warehouse[w], -w))
    return Returnable(lines=lines, shipped_at=shipped_at, window_closed=window_closed,
                      warehouse_id=source)


def returns_page(*, status: str = "", query: str = "", limit: int = 50) -> list[Return]:
    """The back office's returns list: newest first, by state, searched by
    return number, order number or customer name/e-mail."""
    returns = Return.objects.select_related("order", "order__customer")
    if status:
        returns = returns.filter(status=status)
    if query:
        returns = returns.filter(Q(number__icontains=query) | Q(order__number__icontains=query)
                                 | Q(order__customer__name__icontains=query)
                                 | Q(order__customer__email__icontains=query))
    return list(returns.order_by("-created_at", "-id")[:limit])


def return_detail(*, return_id: int) -> Return:
    return (Return.objects.select_related("order", "order__customer", "warehouse",
                                          "exchange_order", "requested_by")
            .prefetch_related("lines__order_line").get(pk=return_id))


def order_returns(*, order_id: int) -> list[Return]:
    """The order's returns, newest first, each with `units` (on its lines)."""
    return list(Return.objects.filter(order_id=order_id).annotate(units=Sum("lines__quantity"))
                .order_by("-created_at", "-id"))


def returns_for_warehouse(*, limit: int = 200) -> list[Return]:
    """Returns the warehouse has work on: goods on their way (approved, or
    brought back by the carrier) and received goods waiting for inspection,
    oldest first, each with `units`."""
    return list(Return.objects.filter(status__in=[
        ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT, ReturnStatus.RECEIVED])
        .select_related("order", "order__customer", "warehouse")
        .annotate(units=Sum("lines__quantity")).order_by("created_at", "id")[:limit])


def pending_address_changes(*, limit: int = 100) -> list[AddressChangeRequest]:
    """Customers' address change requests waiting for customer service,
    oldest first, with their order and customer (one query; the work queue)."""
    return list(AddressChangeRequest.objects.filter(status=AddressRequestStatus.PENDING)
                .select_related("order", "order__customer").order_by("created_at", "id")[:limit])


def address_requests_of(order: Order) -> list[AddressChangeRequest]:
    """The order's address change requests, newest first."""
    return list(order.address_requests.select_related("decided_by")
                .order_by("-created_at", "-id"))


def customer_returns(*, customer_id: int, limit: int = 20) -> list[Return]:
    """The customer's returns, newest first, each with its order and `units`."""
    return list(Return.objects.filter(order__customer_id=customer_id).select_related("order")
                .annotate(units=Sum("lines__quantity")).order_by("-created_at", "-id")[:limit])


def returnable_orders(*, customer_id: int, limit: int = 10) -> list[Order]:
    """The customer's latest orders with shipped units not yet on a return
    that is not refused, each with `returnable` (units): one query. The
    return's own page applies the window and the limits per line."""
    shipped = (Reservation.objects.filter(order_id=OuterRef("pk"),
                                          status=Reservation.Status.CONSUMED)
               .order_by().values("order_id").annotate(units=Sum("quantity")).values("units"))
    returned = (ReturnLine.objects.filter(ret__order_id=OuterRef("pk"))
                .exclude(ret__status=ReturnStatus.REFUSED)
                .order_by().values("ret__order_id").annotate(units=Sum("quantity"))
                .values("units"))
    return list(Order.objects.filter(customer_id=customer_id)
                .annotate(returnable=Coalesce(Subquery(shipped), 0)
                          - Coalesce(Subquery(returned), 0))
                .filter(returnable__gt=0).only("pk", "number", "created_at")
                .order_by("-created_at", "-id")[:limit])


# --- discount codes ----------------------------------------------------------------

class CodeState(TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    SCHEDULED = "scheduled", gettext_lazy("Not yet valid")
    EXPIRED = "expired", gettext_lazy("Expired")
    EXHAUSTED = "exhausted", gettext_lazy("Used up")
    INACTIVE = "inactive", gettext_lazy("Deactivated")


def _code_state(now: datetime) -> Case:
    """A code's state in SQL, the first that holds in this order (a
    deactivated code is that, whatever its dates)."""
    return Case(
        When(is_active=False, then=Value(CodeState.INACTIVE.value)),
        When(valid_until__lte=now, then=Value(CodeState.EXPIRED.value)),
        When(max_uses__isnull=False, uses__gte=F("max_uses"),
             then=Value(CodeState.EXHAUSTED.value)),
        When(valid_from__gt=now, then=Value(CodeState.SCHEDULED.value)),
        default=Value(CodeState.ACTIVE.value), output_field=CharField())


def discount_codes(*, query: str = "", state: str = "") -> QuerySet[DiscountCode]:
    """Codes with their uses (by orders neither cancelled nor expired, as
    placement counts them) and their state; `query` searches the code and
    its description, `state` is a `CodeState`. One query."""
    codes = (DiscountCode.objects
             .annotate(uses=Count("redemptions",
                                  filter=~Q(redemptions__order__status__in=CLOSED)))
             .annotate(state=_code_state(timezone.now())))
    if query:
        codes = codes.filter(Q(code__icontains=query) | Q(description__icontains=query))
    if state:
        codes = codes.filter(state=state)
    return codes.order_by("code", "pk")
