"""Reads of the customers app: search and the customer card.

The card's order figures are read through the reverse relation
`Customer.orders` (one aggregate query), so this module never imports the
orders app; the status names below are the orders app's closed states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.urls import reverse

from customers.models import Address, Contact, Customer, CustomerEvent, Interaction
from oms.lib.paging import HasNextPage, has_next_page
from oms.lib.search import Hit

# Orders in these states count in the history but not in the revenue.
CLOSED_ORDER_STATUSES = ("cancelled", "expired")
NOT_YET_ORDERED = ("draft",)


def search_customers(*, query: str = "", standing: str = "") -> QuerySet[Customer]:
    """Customers whose name, e-mail or phone contains `query` (any case).

    `icontains` is UPPER(col) LIKE UPPER('%q%'), served by the trigram GIN
    indexes on the same expressions.
    """
    customers = Customer.objects.all()
    query = " ".join((query or "").split())
    if query:
        customers = customers.filter(Q(name__icontains=query) | Q(email__icontains=query)
                                     | Q(phone__icontains=query))
    if standing:
        customers = customers.filter(standing=standing)
    return customers.order_by("name", "id")


def get_customer(*, customer_id: int) -> Customer:
    return Customer.objects.get(pk=customer_id)


def get_address(*, customer_id: int, address_id: int) -> Address:
    return Address.objects.select_related("customer").get(pk=address_id, customer_id=customer_id)


def get_contact(*, customer_id: int, contact_id: int) -> Contact:
    return Contact.objects.get(pk=contact_id, customer_id=customer_id)


def customer_page(*, query: str = "", standing: str = "", page: int = 1,
                  page_size: int = 25) -> HasNextPage:
    return has_next_page(search_customers(query=query, standing=standing), page=page,
                         page_size=page_size)


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    orders: int  # every order but drafts
    open_orders: int  # not cancelled or expired
    revenue: Decimal  # gross of orders not cancelled or expired


@dataclass(frozen=True)
class CustomerCard:
    customer: Customer
    addresses: list[Address]
    totals: list[CurrencyTotals]
    order_count: int
    last_order_at: datetime | None
    recent_orders: list = field(default_factory=list)
    events: list[CustomerEvent] = field(default_factory=list)  # newest first
    interactions: list[Interaction] = field(default_factory=list)  # newest first
    contacts: list[Contact] = field(default_factory=list)


def customer_card(*, customer_id: int, recent: int = 20, events: int = 50,
                  interactions: int = 30) -> CustomerCard:
    """The customer, addresses, contacts, order counts and totals per
    currency, the latest orders, calls and notes, and the latest changes of
    its terms: seven queries whatever the history's length."""
    customer = Customer.objects.get(pk=customer_id)
    addresses = list(customer.addresses.order_by("kind", "-is_default", "id"))
    counted = ~Q(status__in=NOT_YET_ORDERED)
    live = counted & ~Q(status__in=CLOSED_ORDER_STATUSES)
    rows = (customer.orders.order_by().values("currency")
            .annotate(orders=Count("id", filter=counted), open_orders=Count("id", filter=live),
                      revenue=Sum("total_gross", filter=live), last=Max("placed_at"))
            .order_by("currency"))
    totals = [CurrencyTotals(currency=row["currency"], orders=row["orders"],
                             open_orders=row["open_orders"],
                             revenue=row["revenue"] or Decimal("0.00"))
              for row in rows if row["orders"]]
    last_dates = [row["last"] for row in rows if row["last"]]
    recent_orders = list(customer.orders.order_by("-created_at", "-id")[:recent])
    return CustomerCard(customer=customer, addresses=addresses, totals=totals,
                        order_count=sum(t.orders for t in totals),
                        last_order_at=max(last_dates, default=None),
                        recent_orders=recent_orders,
                        events=list(customer.events.select_related("actor")
                                    .order_by("-created_at", "-id")[:events]),
                        interactions=list(customer.interactions.select_related("actor")
                                          .order_by("-created_at", "-id")[:interactions]),
                        contacts=list(customer.contacts.order_by("name", "id")))


def search_hits(query: str, limit: int) -> list[Hit]:
    """Customers for the search box: name, e-mail or phone contains the query."""
    customers = search_customers(query=query).only("pk", "name", "email", "phone")[:limit]
    return [Hit(customer.name, " · ".join(filter(None, [customer.email, customer.phone])),
                reverse("customers:detail", args=[customer.pk])) for customer in customers]
