"""Reads of the orders app: the order list and search box, the order
detail, backordered units and the customer card's orders panels. Order
entry reads through `orders.entry_selectors`, returns through
`orders.return_selectors`, price lists and discount codes through
`orders.pricing_selectors`.

The list must stay fast at a million orders: no COUNT(*) (a "has next"
page fetches one extra row), one query per page whatever its size
(customer joined), filters and sorts that match the indexes in
orders.models, and search served by trigram / pattern indexes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Avg, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import CustomerEvent, Interaction
from customers.selectors import search_customers
from inventory.models import Reservation
from oms.lib.paging import HasNextPage, has_next_page_by_keys
from oms.lib.search import Hit
from orders.address_request_models import AddressChangeRequest, AddressRequestStatus
from orders.backorders import backorder_expected_dates
from orders.models import Channel, Order, OrderEvent, OrderFeedback, OrderLine, OrderStatus

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


# --- address change requests ------------------------------------------------------

def pending_address_changes(*, limit: int = 100) -> list[AddressChangeRequest]:
    """Customers' address change requests waiting for customer service,
    oldest first, with their order and customer (one query; the work queue)."""
    return list(AddressChangeRequest.objects.filter(status=AddressRequestStatus.PENDING)
                .select_related("order", "order__customer").order_by("created_at", "id")[:limit])


def address_requests_of(order: Order) -> list[AddressChangeRequest]:
    """The order's address change requests, newest first."""
    return list(order.address_requests.select_related("decided_by")
                .order_by("-created_at", "-id"))
