"""A year of business behind the demo: a few thousand orders from customers in
several countries and currencies, through every channel, with the lead
times, partial payments and overdue invoices a real year has.

The figures the dashboards and reports read (orders, their status-change
events, shipments, invoices and what was paid on them) are written with bulk
INSERTs so `make run` seeds in seconds; each row has the shape the services
give it (the same event writers, seller and buyer snapshots, payment terms
text, document numbers from the same counters). Stock is left alone: the
history's goods left the warehouses long ago, and today's stock belongs to
the live demo orders. History orders end shipped, invoiced, paid, cancelled
or expired; the open states are shown by the live demo orders.

Safe to run again: history customers are recognised by their e-mail domain,
and a second run adds nothing.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from billing.models import (
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    InvoiceStatus,
    InvoiceTaxRate,
    SettlementMethod,
    format_document_number,
)
from billing.services.invoicing import invoice_series, payment_terms_text, seller_snapshot
from customers.models import Address, Customer
from fulfillment.models import CarrierService, Shipment
from inventory.models import Product, Warehouse
from oms.lib.money import quantize_money
from orders import events
from orders.models import ORDER_NUMBER_SEQUENCE, Order, OrderLine, OrderStatus, StatusCause
from orders.totals import PricedLine, compute_totals
from reporting.management.demo_data import cost_in_euros

HISTORY_DOMAIN = "history.demo.example"
DAYS = 365
RECENT_DAYS = 4  # the last days belong to the live demo orders
CUSTOMERS = 140
ORDERS = 3000
# The price list is in euros; other currencies are priced at these demo rates.
RATES = {"EUR": Decimal("1"), "GBP": Decimal("0.86"), "USD": Decimal("1.08")}
# country, currency, language, cities, share of customers
COUNTRIES = [
    ("FR", "EUR", "fr", ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille"], 40),
    ("BE", "EUR", "fr", ["Bruxelles", "Liège", "Namur"], 10),
    ("NL", "EUR", "nl", ["Amsterdam", "Rotterdam", "Utrecht"], 10),
    ("ES", "EUR", "es", ["Madrid", "Barcelona", "Valencia"], 10),
    ("RO", "EUR", "ro", ["București", "Cluj-Napoca", "Iași"], 6),
    ("DE", "EUR", "en", ["Berlin", "Hamburg", "München"], 8),
    ("GB", "GBP", "en", ["London", "Manchester", "Bristol"], 10),
    ("US", "USD", "en", ["New York", "Chicago", "Austin"], 6),
]
FIRST = ["Marie", "Jean", "Pierre", "Anne", "Louis", "Claire", "Paul", "Julie", "Nicolas",
         "Camille", "Thomas", "Sophie", "Lucas", "Emma", "Hugo", "Léa", "Jules", "Manon",
         "Arthur", "Inès", "Adam", "Sarah", "Ana", "Mihai", "Ioana", "Daan", "Sanne", "Pablo",
         "Lucía", "Oliver", "Amelia", "James", "Olivia"]
LAST = ["Martin", "Bernard", "Dubois", "Petit", "Durand", "Leroy", "Moreau", "Laurent",
        "Lefebvre", "Garcia", "Roux", "Fournier", "Janssens", "Peeters", "Dekker", "Visser",
        "García", "López", "Popescu", "Ionescu", "Müller", "Schmidt", "Smith", "Jones",
        "Taylor", "Brown", "Miller"]
COMPANY = ["Atelier", "Bureau", "Studio", "Maison", "Office", "Design", "Logistics", "Trading",
           "Interiors", "Workspace"]
# channel -> weight
CHANNELS = {"web": 45, "phone": 14, "email": 12, "api": 15, "store": 8, "import": 6}


@dataclass
class _Batch:
    orders: list[Order] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)
    events: list = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    invoices: list[tuple[Invoice, list[OrderLine], date | None, Decimal]] = field(
        default_factory=list)


def already_seeded() -> bool:
    return Customer.objects.filter(email__endswith="@" + HISTORY_DOMAIN).exists()


def seed_history(*, orders: int = ORDERS, customers: int = CUSTOMERS, seed: int = 2026,
                 now: datetime | None = None,
                 progress: Callable[[int, int], None] | None = None) -> int:
    """Write the year behind the demo; returns how many orders it added (0 on
    a second run). `progress(done, total)` is called as orders are built."""
    if already_seeded():
        return 0
    rng = random.Random(seed)
    now = now or timezone.now()
    products = list(Product.objects.filter(is_active=True).order_by("sku"))
    warehouses = list(Warehouse.objects.filter(is_active=True).order_by("code"))
    service = CarrierService.objects.filter(is_active=True).order_by("pk").first()
    if not products or not warehouses:
        return 0
    with transaction.atomic(durable=True):
        people = _customers(rng, customers, now)
        batch = _Batch()
        numbers = _order_numbers(orders)
        starts = sorted(now - timedelta(days=RECENT_DAYS) - timedelta(
            seconds=rng.random() * (DAYS - RECENT_DAYS) * 86400 * rng.choice((1, 1, 0.6)))
            for _ in range(orders))
        for index, placed_at in enumerate(starts):
            _order(rng, batch, customer=rng.choice(people), placed_at=placed_at, now=now,
                   number=numbers[index], products=products, warehouses=warehouses,
                   service=service)
            if progress and (index + 1) % 250 == 0:
                progress(index + 1, orders)
        _write(batch)
        if progress:
            progress(orders, orders)
    return orders


def _customers(rng: random.Random, count: int, now: datetime) -> list[Customer]:
    made, addresses = [], []
    countries = [country for country in COUNTRIES for _ in range(country[4])]
    for index in range(count):
        country, currency, language, cities, _share = rng.choice(countries)
        company = index % 3 == 0
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = (f"{last} {rng.choice(COMPANY)}" if company else f"{first} {last}")
        customer = Customer(
            kind="company" if company else "person", name=name,
            email=_ascii(f"{first}.{last}.{index}@{HISTORY_DOMAIN}"),
            preferred_language=language, standing="trusted" if index % 7 else "new",
            payment_preference="net_terms" if company else "card",
            payment_terms_days=30 if company else 0,
            credit_limit=Decimal("20000.00") if company else Decimal("0.00"))
        customer.history_country = (country, currency, rng.choice(cities))  # type: ignore[attr-defined]
        made.append(customer)
    Customer.objects.bulk_create(made)
    Customer.objects.filter(pk__in=[c.pk for c in made]).update(
        created_at=now - timedelta(days=DAYS + 30))
    for customer in made:
        country, _currency, city = customer.history_country  # type: ignore[attr-defined]
        for kind in ("billing", "shipping"):
            addresses.append(Address(customer=customer, kind=kind, name=customer.name,
                                     line1=f"{rng.randint(1, 120)} Demo Street",
                                     postal_code=f"{rng.randint(10000, 99999)}", city=city,
                                     country=country, is_default=True))
    Address.objects.bulk_create(addresses)
    return made


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _order_numbers(count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)",
                       [ORDER_NUMBER_SEQUENCE, count])
        return [row[0] for row in cursor.fetchall()]


def _method(rng: random.Random, customer: Customer) -> str:
    if customer.kind == "company":
        return rng.choices(["net_terms", "bank_transfer", "card"], [60, 10, 30])[0]
    return rng.choices(["card", "paypal", "bank_transfer"], [80, 10, 10])[0]


def _business_delay(rng: random.Random, start: datetime, low_hours: float,
                    high_hours: float) -> datetime:
    """`start` plus a delay, moved past a weekend (the warehouse rests)."""
    moment = start + timedelta(hours=rng.uniform(low_hours, high_hours))
    while timezone.localtime(moment).weekday() >= 5:
        moment += timedelta(days=1)
    return moment


def _order(rng: random.Random, batch: _Batch, *, customer: Customer, placed_at: datetime,
           now: datetime, number: int, products: list[Product], warehouses: list[Warehouse],
           service: CarrierService | None) -> None:
    country, currency, city = customer.history_country  # type: ignore[attr-defined]
    rate = RATES[currency]
    method = _method(rng, customer)
    address = {"name": customer.name, "line1": "Demo Street", "postal_code": "00000",
               "city": city, "country": country}
    lines = []
    for position, product in enumerate(rng.sample(products, rng.randint(1, 4)), start=1):
        quantity = rng.choice((1, 1, 1, 2, 2, 3, 5, 10))
        price = quantize_money(product.unit_price * rate)
        cost = cost_in_euros(product.sku)
        lines.append(OrderLine(position=position, product=product, sku=product.sku,
                               name=product.name, unit_price=price, tax_rate=product.tax_rate,
                               quantity=quantity, line_net=quantize_money(price * quantity),
                               unit_cost=None if cost is None else quantize_money(cost * rate)))
    totals = compute_totals([PricedLine(unit_price=line.unit_price, tax_rate=line.tax_rate,
                                        quantity=line.quantity) for line in lines])
    plan = _plan(rng, customer=customer, method=method, placed_at=placed_at, now=now,
                 gross=totals.gross)
    order = Order(number=f"SO-{timezone.localtime(placed_at).year}-{number:06d}",
                  customer=customer, channel=rng.choices(list(CHANNELS),
                                                         list(CHANNELS.values()))[0],
                  currency=currency, status=plan.status, shipping_address=address,
                  billing_address=address, payment_method=method,
                  created_at=placed_at - timedelta(minutes=rng.randint(1, 20)),
                  placed_at=placed_at, shipped_at=plan.shipped, closed_at=plan.closed,
                  promised_delivery_date=timezone.localdate(placed_at) + timedelta(
                      days=rng.randint(2, 6)),
                  total_net=totals.net, total_tax=totals.tax, total_gross=totals.gross)
    for line in lines:
        line.order = order
    batch.orders.append(order)
    batch.lines.extend(lines)
    created = events.order_created(order, actor=None, channel=order.channel, lines=len(lines),
                                   save=False)
    created.created_at = order.created_at
    batch.events.append(created)
    for from_status, to_status, at, data in plan.steps:
        event = events.status_changed(order, actor=None, from_status=from_status,
                                      to_status=to_status, data=data, save=False)
        event.created_at = at
        batch.events.append(event)
    if plan.shipped is None or plan.invoiced is None:
        return
    delivered = now - plan.shipped > timedelta(days=3)
    batch.shipments.append(Shipment(
        order=order, warehouse=rng.choice(warehouses), package_type="box",
        status=Shipment.Status.DELIVERED if delivered else Shipment.Status.SHIPPED,
        weight_kg=Decimal("2.500"), carrier_service=service,
        tracking_number=f"HIST{number:08d}", shipping_cost=service.price if service else None,
        packed_at=plan.shipped - timedelta(hours=1), shipped_at=plan.shipped,
        delivered_at=plan.shipped + timedelta(days=2) if delivered else None))
    assert plan.due is not None  # every invoiced plan has its due date
    batch.invoices.append((Invoice(
        series=invoice_series(), year=timezone.localtime(plan.invoiced).year, order=order,
        customer=customer, issue_date=timezone.localdate(plan.invoiced),
        supply_date=timezone.localdate(plan.shipped), due_date=plan.due,
        payment_terms=payment_terms_text(days=plan.terms, settled=method != "net_terms",
                                         language=customer.preferred_language),
        seller=seller_snapshot(), buyer={"name": customer.name, "email": customer.email,
                                         "vat_id": customer.vat_id, "address": address},
        shipping_address=address, currency=currency, total_net=totals.net,
        total_tax=totals.tax, total_gross=totals.gross, amount_paid=plan.paid,
        status=InvoiceStatus.PAID if plan.paid == totals.gross else (
            InvoiceStatus.PARTIALLY_PAID if plan.paid else InvoiceStatus.OPEN),
        issued_at=plan.invoiced), lines, plan.paid_on, plan.paid))


@dataclass
class _Plan:
    status: str
    steps: list[tuple[str, str, datetime, dict]]
    shipped: datetime | None = None
    invoiced: datetime | None = None
    closed: datetime | None = None
    terms: int = 0
    due: date | None = None
    paid_on: date | None = None
    paid: Decimal = Decimal("0.00")


def _plan(rng: random.Random, *, customer: Customer, method: str, placed_at: datetime,
          now: datetime, gross: Decimal) -> _Plan:
    """The life the order had: its status changes, when, and what was paid."""
    steps: list[tuple[str, str, datetime, dict]] = [
        (OrderStatus.DRAFT, OrderStatus.PLACED, placed_at, {})]
    outcome = rng.random()
    if outcome < 0.05:  # the customer changed their mind
        at = placed_at + timedelta(hours=rng.uniform(0.2, 30))
        steps.append((OrderStatus.PLACED, OrderStatus.CANCELLED, at, {}))
        return _Plan(OrderStatus.CANCELLED, steps, closed=at)
    if outcome < 0.08 or (method == "bank_transfer" and outcome < 0.2):  # nobody paid in time
        at = placed_at + timedelta(hours=1)
        steps.append((OrderStatus.PLACED, OrderStatus.EXPIRED, at,
                      {"cause": StatusCause.HOLD_LAPSED.value}))
        return _Plan(OrderStatus.EXPIRED, steps, closed=at)

    held = placed_at + timedelta(minutes=1)
    if method == "bank_transfer":  # waits for the prepayment
        approved = held + timedelta(hours=rng.uniform(18, 96))
        steps += [(OrderStatus.PLACED, OrderStatus.ON_HOLD, held,
                   {"cause": StatusCause.PREPAYMENT_MISSING.value}),
                  (OrderStatus.ON_HOLD, OrderStatus.RESERVED, approved, {})]
    elif customer.standing == "new" or (method == "net_terms" and rng.random() < 0.15):
        approved = _business_delay(rng, held, 0.5, 20)
        steps += [(OrderStatus.PLACED, OrderStatus.ON_HOLD, held,
                   {"cause": StatusCause.NEW_CUSTOMER.value}),
                  (OrderStatus.ON_HOLD, OrderStatus.RESERVED, approved, {})]
    else:
        approved = placed_at + timedelta(minutes=rng.uniform(0.2, 8))
        steps.append((OrderStatus.PLACED, OrderStatus.RESERVED, approved,
                      {"cause": StatusCause.AUTO_APPROVED.value}))
    picking = _business_delay(rng, approved, 1, 20)
    packed = picking + timedelta(minutes=rng.uniform(10, 90))
    shipped = min(_business_delay(rng, packed, 0.5, 30), now - timedelta(hours=2))
    invoiced = shipped + timedelta(minutes=rng.uniform(1, 5))
    steps += [(OrderStatus.RESERVED, OrderStatus.PICKING, picking, {}),
              (OrderStatus.PICKING, OrderStatus.PACKED, packed, {}),
              (OrderStatus.PACKED, OrderStatus.SHIPPED, shipped, {}),
              (OrderStatus.SHIPPED, OrderStatus.INVOICED, invoiced, {})]
    plan = _Plan(OrderStatus.INVOICED, steps, shipped=shipped, invoiced=invoiced)

    # Cards and prepayments are settled at shipment; terms are paid around the due date.
    plan.terms = customer.payment_terms_days if method == "net_terms" else 0
    plan.due = timezone.localdate(invoiced) + timedelta(days=plan.terms)
    plan.paid_on, plan.paid = timezone.localdate(invoiced), gross
    if method == "net_terms":
        lateness = rng.choices([-20, -5, 0, 10, 45, 120], [15, 30, 25, 15, 10, 5])[0]
        plan.paid_on = plan.due + timedelta(days=lateness + rng.randint(0, 6))
        if rng.random() < 0.06:  # paid half, the rest still owed
            plan.paid = quantize_money(gross / 2)
        if plan.paid_on >= timezone.localdate(now):
            plan.paid_on, plan.paid = None, Decimal("0.00")
    if plan.paid == gross and plan.paid_on is not None:
        settled = max(invoiced + timedelta(minutes=1), timezone.make_aware(
            datetime.combine(plan.paid_on, datetime.min.time())) + timedelta(hours=10))
        steps.append((OrderStatus.INVOICED, OrderStatus.PAID, settled, {}))
        plan.status, plan.closed = OrderStatus.PAID, settled
    return plan


def _write(batch: _Batch) -> None:
    """Bulk INSERTs in dependency order; invoice numbers from the counters."""
    Order.objects.bulk_create(batch.orders, batch_size=1000)
    for line in batch.lines:
        line.order_id = line.order.pk
    OrderLine.objects.bulk_create(batch.lines, batch_size=2000)
    for event in batch.events:
        event.order_id = event.order.pk
    type(batch.events[0]).objects.bulk_create(batch.events, batch_size=2000)
    for shipment in batch.shipments:
        shipment.order_id = shipment.order.pk
    Shipment.objects.bulk_create(batch.shipments, batch_size=1000)

    invoices = sorted(batch.invoices, key=lambda item: item[0].issued_at)
    last: dict[tuple[str, int], int] = {}
    for invoice, *_rest in invoices:
        invoice.order_id = invoice.order.pk
        key = (invoice.series, invoice.year)
        last[key] = last.get(key) or _reserve_numbers(*key, count=sum(
            1 for item in invoices if (item[0].series, item[0].year) == key))
        invoice.sequence = last[key] = last[key] + 1
        invoice.number = format_document_number(invoice.series, invoice.year, invoice.sequence)
    Invoice.objects.bulk_create([item[0] for item in invoices], batch_size=1000)
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, position=line.position, sku=line.sku,
                    description=line.name, quantity=line.quantity, unit_price=line.unit_price,
                    tax_rate=line.tax_rate, net=line.line_net)
        for invoice, lines, _paid_on, _paid in invoices for line in lines], batch_size=2000)
    rates = []
    for invoice, lines, _paid_on, _paid in invoices:
        totals = compute_totals([PricedLine(unit_price=line.unit_price, tax_rate=line.tax_rate,
                                            quantity=line.quantity) for line in lines])
        rates += [InvoiceTaxRate(invoice=invoice, rate=rate, net=net, tax=tax)
                  for rate, (net, tax) in totals.by_rate.items()]
    InvoiceTaxRate.objects.bulk_create(rates, batch_size=2000)
    InvoicePayment.objects.bulk_create([
        InvoicePayment(invoice=invoice, amount=paid, applied=paid, received_on=paid_on,
                       method=SettlementMethod.CARD if invoice.order.payment_method == "card"
                       else SettlementMethod.BANK_TRANSFER, reference="DEMO-HISTORY")
        for invoice, _lines, paid_on, paid in invoices if paid_on and paid > 0],
        batch_size=2000)


def _reserve_numbers(series: str, year: int, *, count: int) -> int:
    """Take `count` numbers of the year's series at once, under the counter's
    lock; returns the number before the first one taken."""
    counter, _created = DocumentCounter.objects.select_for_update().get_or_create(
        series=series, year=year, defaults={"last_number": 0})
    before = counter.last_number
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return before
