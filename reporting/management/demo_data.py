"""Demo catalogue, stock, customers and orders for `manage.py seed_demo`.

Orders and customers go in through their apps' services, so the demo data
obeys the same rules (stock holds, payment approval, events, e-mails) as real
data. Catalogue master data (warehouses, products, bins) has no service: it is
created like the admin would, with unit costs and exchange rates. Stock
arrives through `inventory.services.receive_stock`.

Idempotent: products, warehouses and customers are keyed by SKU, code and
e-mail; stock is received only into a stock level that does not exist yet;
each demo order carries a fixed note and is placed again only when time has
expired the last one (an unapproved hold lapses after
RESERVATION_HOLD_MINUTES). So a second run creates nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import services as billing_services
from billing.models import Invoice
from customers.inputs import CustomerAddressInput, CustomerInput
from customers.models import Customer, CustomerGroup
from customers.services import upsert_customer
from fulfillment import services as fulfillment_services
from fulfillment.inputs import Handover, Packing, PickScan
from fulfillment.models import Carrier, CarrierService, PickList
from inventory.models import (
    BinLocation,
    Product,
    ProductCost,
    Reservation,
    StockLevel,
    Warehouse,
)
from inventory.services import receive_stock
from oms.lib.actors import Actor
from oms.lib.money import quantize_money
from oms.models import ExchangeRate
from orders import services as order_services
from orders.inputs import PriceInput, PriceListInput
from orders.models import HoldReason, Order, OrderStatus, PriceList
from orders.payments import PaymentDetails

# Sandbox card numbers (billing/providers/sandbox.py).
CARD_APPROVED = "4242424242424242"
CARD_DECLINED = "4000000000000002"

WAREHOUSES = [
    # code, name, line1, postal code, city, country
    ("PAR", "Paris Nord", "12 rue des Entrepôts", "92230", "Gennevilliers", "FR"),
    ("LYO", "Lyon Sud", "4 avenue de la Logistique", "69200", "Vénissieux", "FR"),
    ("RTM", "Rotterdam Port", "Waalhaven Zuidzijde 21", "3089 JH", "Rotterdam", "NL"),
]

# sku, name, price, tax %, kg, (l, w, h) cm, fragile, stock per warehouse code
PRODUCTS = [
    ("DESK-OAK-160", "Oak desk 160 × 80 cm", "489.00", "20.00", "38.0", (160, 80, 75), False,
     {"PAR": 25, "LYO": 10}),
    ("CHAIR-ERGO-BLK", "Ergonomic office chair, black", "259.00", "20.00", "14.5",
     (68, 68, 120), False, {"PAR": 40, "LYO": 25, "RTM": 15}),
    ("CAB-3DRW", "Three-drawer filing cabinet", "179.00", "20.00", "22.0", (47, 62, 72), False,
     {"PAR": 18, "RTM": 12}),
    ("MON-27-4K", "27-inch 4K monitor", "329.00", "20.00", "6.8", (62, 21, 47), True,
     {"PAR": 30, "LYO": 20, "RTM": 20}),
    ("LAMP-LED-01", "LED desk lamp", "39.90", "20.00", "1.2", (20, 20, 45), False,
     {"PAR": 120, "LYO": 60}),
    ("KB-WL-FR", "Wireless keyboard (AZERTY)", "49.90", "20.00", "0.6", (44, 13, 3), False,
     {"PAR": 150, "LYO": 80}),
    ("MOUSE-WL", "Wireless mouse", "24.90", "20.00", "0.1", (11, 6, 4), False,
     {"PAR": 200, "LYO": 100, "RTM": 100}),
    ("HEADSET-USB", "USB headset with microphone", "59.00", "20.00", "0.3", (20, 18, 8), False,
     {"PAR": 60, "RTM": 40}),
    ("WB-120", "Whiteboard 120 × 90 cm", "119.00", "20.00", "9.5", (122, 92, 3), False,
     {"LYO": 15}),
    ("MUG-CER-6", "Ceramic mugs, set of 6", "29.90", "20.00", "2.4", (30, 20, 12), True,
     {"PAR": 48, "RTM": 24}),
    ("PAPER-A4-500", "A4 copy paper, 500 sheets", "5.49", "20.00", "2.5", (30, 21, 5), False,
     {"PAR": 800, "LYO": 400, "RTM": 300}),
    ("BOOK-O2C", "The order-to-cash handbook", "34.00", "5.50", "0.9", (24, 17, 3), False,
     {"PAR": 35}),
    # Sold out everywhere: what backorders are for.
    ("ARM-DUAL", "Dual monitor arm", "89.00", "20.00", "4.1", (45, 15, 12), False, {}),
    # Not released yet: sold as a pre-order (PREORDER_DAYS ahead).
    ("CHAIR-ERGO-V2", "Ergonomic office chair, second edition", "299.00", "20.00", "15.0",
     (68, 68, 120), False, {}),
]
PREORDER_SKU, PREORDER_DAYS = "CHAIR-ERGO-V2", 7

# What a unit costs us (purchase, handling, delivery) and the currency it is
# bought in; the whiteboard has no known cost, so its margin shows "unknown".
COSTS = {
    "DESK-OAK-160": ("EUR", "262.00"), "CHAIR-ERGO-BLK": ("EUR", "131.00"),
    "CAB-3DRW": ("EUR", "98.50"), "MON-27-4K": ("USD", "231.00"),
    "LAMP-LED-01": ("EUR", "17.20"), "KB-WL-FR": ("EUR", "21.40"),
    "MOUSE-WL": ("EUR", "9.80"), "HEADSET-USB": ("USD", "34.50"),
    "MUG-CER-6": ("EUR", "11.90"), "PAPER-A4-500": ("EUR", "3.10"),
    "BOOK-O2C": ("EUR", "19.00"), "ARM-DUAL": ("EUR", "41.00"),
}
# Units of each currency for one euro, from the start of the demo's history.
EXCHANGE_RATES = {"GBP": Decimal("0.86"), "USD": Decimal("1.08")}
RATES_FROM = date(2020, 1, 1)


def cost_in_euros(sku: str) -> Decimal | None:
    """The demo unit cost of `sku` in euros (None: unknown)."""
    if sku not in COSTS:
        return None
    currency, cost = COSTS[sku]
    return Decimal(cost) / EXCHANGE_RATES[currency] if currency != "EUR" else Decimal(cost)


@dataclass(frozen=True)
class DemoCustomer:
    email: str
    name: str
    kind: str
    address: tuple[str, str, str, str]  # line1, postal code, city, country (in its name)
    phone: str = ""
    vat_id: str = ""
    fields: dict = field(default_factory=dict)


CUSTOMERS = {
    "atelier": DemoCustomer(
        "achats@atelier-dupont.example", "Atelier Dupont SARL", "company",
        ("8 rue du Faubourg Saint-Antoine", "75011", "Paris", "FR"),
        phone="+33 1 43 55 20 10", vat_id="FR40123456789",
        fields={"standing": "trusted", "payment_preference": "net_terms",
                "payment_terms_days": 30, "credit_limit": Decimal("25000.00")}),
    "camille": DemoCustomer(
        "camille.martin@example.org", "Camille Martin", "person",
        ("27 quai Saint-Antoine", "69002", "Lyon", "FR"),
        phone="+33 6 12 34 56 78",
        fields={"standing": "trusted", "payment_preference": "card"}),
    "lucas": DemoCustomer(
        "lucas.bernard@example.org", "Lucas Bernard", "person",
        ("5 allée des Tilleuls", "33000", "Bordeaux", "FR"),
        fields={"standing": "new", "payment_preference": "card"}),
    "sophie": DemoCustomer(
        "sophie.laurent@example.org", "Sophie Laurent", "person",
        ("14 rue Nationale", "59000", "Lille", "FR"),
        phone="+33 6 98 76 54 32",
        fields={"standing": "trusted", "payment_preference": "card"}),
    "boulangerie": DemoCustomer(
        "compta@boulangerie-petit.example", "Boulangerie Petit", "company",
        ("3 place du Marché", "44000", "Nantes", "FR"),
        vat_id="FR83987654321",
        fields={"standing": "trusted", "payment_preference": "net_terms",
                "payment_terms_days": 30, "credit_limit": Decimal("500.00")}),
    "nordic": DemoCustomer(
        "orders@nordic-interiors.example", "Nordic Interiors BV", "company",
        ("Keizersgracht 120", "1015 CW", "Amsterdam", "NL"),
        vat_id="NL123456789B01",
        fields={"standing": "trusted", "payment_preference": "bank_transfer",
                "payment_terms_days": 0}),
    "belvedere": DemoCustomer(
        "achats@hotel-belvedere.example", "Hôtel Belvédère", "company",
        ("1 promenade des Anglais", "06000", "Nice", "FR"),
        fields={"standing": "trusted", "payment_preference": "card",
                "accepts_backorder": True}),
    "lefevre": DemoCustomer(
        "comptabilite@lefevre-avocats.example", "Cabinet Lefèvre Avocats", "company",
        ("45 cours Mirabeau", "13100", "Aix-en-Provence", "FR"),
        phone="+33 4 42 00 11 22", vat_id="FR12456789012",
        fields={"standing": "trusted", "payment_preference": "net_terms",
                "payment_terms_days": 45, "credit_limit": Decimal("10000.00")}),
    "julien": DemoCustomer(
        "julien.moreau@example.org", "Julien Moreau", "person",
        ("9 rue de la République", "13001", "Marseille", "FR"),
        fields={"standing": "new", "payment_preference": "card"}),
    "blocked": DemoCustomer(
        "impayes@mauvais-payeur.example", "Mauvais Payeur SAS", "company",
        ("1 impasse du Retard", "67000", "Strasbourg", "FR"),
        fields={"standing": "blocked", "payment_preference": "net_terms",
                "payment_terms_days": 30,
                "notes": "Blocked after three unpaid invoices."}),
}


@dataclass(frozen=True)
class DemoOrder:
    note: str  # the demo marker; also what the order page shows as its note
    customer: str
    lines: list[tuple[str, int]]
    channel: str
    status: str  # the state the demo order is meant to show
    payment: PaymentDetails | None = None
    draft: bool = False
    # Why the payment approver holds it; used by hand when no approver is
    # registered (billing not installed), like a person working the queue.
    hold_reason: str = ""
    then: Callable[[Order, Actor], object] | None = None


def _cancel(order: Order, actor: Actor) -> None:
    order_services.cancel_order(order_id=order.pk, actor=actor,
                                reason="Customer changed their mind (demo).")


def _reject(order: Order, actor: Actor) -> None:
    order_services.reject_order(order_id=order.pk, actor=actor,
                                reason="Could not verify the customer's identity (demo).")


def _expire(order: Order, actor: Actor) -> None:
    # The beat task would do this one hold period later; run it for that moment.
    order.refresh_from_db(fields=["hold_expires_at"])
    assert order.hold_expires_at is not None  # its hold reason has a deadline
    order_services.expire_orders(now=order.hold_expires_at + timedelta(seconds=1))


def _firm_reservations(order: Order):
    return Reservation.objects.filter(order_id=order.pk, kind=Reservation.Kind.FIRM,
                                      status=Reservation.Status.ACTIVE)


def _firm_warehouses(order: Order) -> list[int]:
    return sorted(set(_firm_reservations(order).values_list("warehouse_id", flat=True)))


def _start_picking(order: Order, actor: Actor) -> list[PickList]:
    return [fulfillment_services.create_pick_list(warehouse_id=warehouse_id,
                                                  order_ids=[order.pk], actor=actor)
            for warehouse_id in _firm_warehouses(order)]


def _pack(order: Order, actor: Actor) -> None:
    warehouses = _firm_warehouses(order)
    weights = {warehouse_id: Decimal("0.5") for warehouse_id in warehouses}
    for reservation in _firm_reservations(order).select_related("product"):
        weights[reservation.warehouse_id] += reservation.product.weight_kg * reservation.quantity
    for pick_list in _start_picking(order, actor):
        for line in pick_list.lines.all():
            fulfillment_services.confirm_pick(
                pick_list_id=pick_list.pk, data=PickScan(sku=line.sku, quantity=line.quantity),
                actor=actor)
        fulfillment_services.complete_pick_list(pick_list_id=pick_list.pk, actor=actor)
    for warehouse_id in warehouses:
        weight = weights[warehouse_id]
        packing = Packing.parse(package_type="pallet" if weight > 60 else "box", weight=weight)
        fulfillment_services.pack(order_id=order.pk, warehouse_id=warehouse_id, data=packing,
                                  actor=actor)


def _demo_carrier_service() -> CarrierService:
    """Colissimo standard, which fulfillment's data migration creates; made
    here as the admin would if it has been deleted since."""
    service = CarrierService.objects.filter(carrier__code="COLISSIMO", code="standard",
                                            is_active=True, carrier__is_active=True).first()
    if service is None:
        carrier, _created = Carrier.objects.get_or_create(
            code="COLISSIMO", defaults={
                "name": "La Poste Colissimo", "tracking_url_template":
                    "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking_number}"})
        service, _created = CarrierService.objects.get_or_create(
            carrier=carrier, code="standard",
            defaults={"name": "Standard", "price": Decimal("6.90"), "transit_days": 3})
    return service


def _ship(order: Order, actor: Actor) -> None:
    """Pick, pack and ship; billing invoices the shipped order through the outbox
    (at once without Redis, from the worker with it)."""
    _pack(order, actor)
    service = _demo_carrier_service()
    for index, shipment in enumerate(order.shipments.order_by("pk"), start=1):
        handover = Handover.parse(carrier_service_id=service.pk,
                                  tracking_number=f"DEMO{order.number[-6:]}{index:02d}FR")
        fulfillment_services.ship(shipment_id=shipment.pk, data=handover, actor=actor)


def _ship_and_collect(order: Order, actor: Actor) -> None:
    """Ship, then record the customer's bank transfer against the invoice."""
    _ship(order, actor)
    invoice = Invoice.objects.filter(order=order, number__isnull=False).first()
    if invoice is not None and invoice.outstanding > 0:  # None: the worker has not invoiced yet
        billing_services.record_invoice_payment(
            invoice_id=invoice.pk, actor=actor, data=billing_services.InvoicePaymentInput(
                amount=invoice.outstanding, method="bank_transfer",
                received_on=timezone.localdate(), reference="DEMO-TRANSFER"))


# The expired order comes first: expiring "one hold period from now" would
# also expire holds placed before it in this run.
ORDERS = [
    DemoOrder("Demo: card declined and never paid again before the link's deadline.",
              "julien", [("LAMP-LED-01", 2)], "web", OrderStatus.EXPIRED,
              PaymentDetails("card", CARD_DECLINED), hold_reason=HoldReason.PAYMENT_DECLINED,
              then=_expire),
    DemoOrder("Demo: being entered by the order desk.", "atelier",
              [("DESK-OAK-160", 4), ("CHAIR-ERGO-BLK", 4)], "phone", OrderStatus.DRAFT,
              draft=True),
    DemoOrder("Demo: trusted customer, card approved, straight to fulfilment.", "camille",
              [("MON-27-4K", 2), ("KB-WL-FR", 1), ("MOUSE-WL", 1)], "web",
              OrderStatus.RESERVED, PaymentDetails("card", CARD_APPROVED)),
    DemoOrder("Demo: trusted company on 30-day terms within its credit limit.", "atelier",
              [("CAB-3DRW", 3), ("PAPER-A4-500", 40), ("LAMP-LED-01", 6)], "email",
              OrderStatus.RESERVED, PaymentDetails("net_terms")),
    DemoOrder("Demo: first order of a new customer, waiting for approval.", "lucas",
              [("CHAIR-ERGO-BLK", 1), ("HEADSET-USB", 1)], "web", OrderStatus.ON_HOLD,
              PaymentDetails("card", CARD_APPROVED), hold_reason=HoldReason.NEW_CUSTOMER),
    DemoOrder("Demo: card declined; the customer was e-mailed a link to pay again.",
              "sophie", [("WB-120", 1), ("MUG-CER-6", 1)], "web", OrderStatus.ON_HOLD,
              PaymentDetails("card", CARD_DECLINED), hold_reason=HoldReason.PAYMENT_DECLINED),
    DemoOrder("Demo: over the credit limit.", "boulangerie",
              [("DESK-OAK-160", 1), ("CHAIR-ERGO-BLK", 2)], "phone", OrderStatus.ON_HOLD,
              PaymentDetails("net_terms"), hold_reason=HoldReason.CREDIT_LIMIT),
    DemoOrder("Demo: prepayment by bank transfer not received yet.", "nordic",
              [("CHAIR-ERGO-BLK", 6), ("MON-27-4K", 6)], "api", OrderStatus.ON_HOLD,
              PaymentDetails("bank_transfer"), hold_reason=HoldReason.PREPAYMENT_MISSING),
    DemoOrder("Demo: a pre-order, waiting for the release date.", "camille",
              [(PREORDER_SKU, 1), ("LAMP-LED-01", 1)], "web", OrderStatus.BACKORDERED,
              PaymentDetails("card", CARD_APPROVED)),
    DemoOrder("Demo: approved, waiting for sold-out stock.", "belvedere",
              [("ARM-DUAL", 10), ("MON-27-4K", 2)], "email", OrderStatus.BACKORDERED,
              PaymentDetails("card", CARD_APPROVED)),
    DemoOrder("Demo: on a pick list in the warehouse.", "camille",
              [("CHAIR-ERGO-BLK", 2), ("LAMP-LED-01", 2)], "web", OrderStatus.PICKING,
              PaymentDetails("card", CARD_APPROVED), then=_start_picking),
    DemoOrder("Demo: picked and packed, waiting for the carrier.", "atelier",
              [("MON-27-4K", 4), ("HEADSET-USB", 4)], "phone", OrderStatus.PACKED,
              PaymentDetails("net_terms"), then=_pack),
    DemoOrder("Demo: shipped on 30-day terms; the invoice is open.", "atelier",
              [("DESK-OAK-160", 2), ("CAB-3DRW", 2)], "email", OrderStatus.INVOICED,
              PaymentDetails("net_terms"), then=_ship),
    DemoOrder("Demo: shipped; the card was captured at shipment, so it is paid.", "camille",
              [("MOUSE-WL", 2), ("KB-WL-FR", 2), ("PAPER-A4-500", 5)], "web",
              OrderStatus.PAID, PaymentDetails("card", CARD_APPROVED), then=_ship),
    DemoOrder("Demo: shipped on terms and paid by bank transfer.", "lefevre",
              [("MUG-CER-6", 10), ("BOOK-O2C", 5)], "email", OrderStatus.PAID,
              PaymentDetails("net_terms"), then=_ship_and_collect),
    DemoOrder("Demo: cancelled at the customer's request.", "camille",
              [("BOOK-O2C", 2)], "store", OrderStatus.CANCELLED,
              PaymentDetails("card", CARD_APPROVED), then=_cancel),
    DemoOrder("Demo: rejected in the approval queue.", "lucas",
              [("HEADSET-USB", 3)], "phone", OrderStatus.CANCELLED,
              PaymentDetails("card", CARD_APPROVED), hold_reason=HoldReason.NEW_CUSTOMER,
              then=_reject),
]


def seed_catalogue(*, actor: Actor) -> dict[str, int]:
    """Warehouses, products, bins and opening stock; returns counts created."""
    created = {"warehouses": 0, "products": 0, "stock_receipts": 0}
    with transaction.atomic(durable=True):
        warehouses = {}
        for code, name, line1, postal_code, city, country in WAREHOUSES:
            warehouses[code], was_created = Warehouse.objects.get_or_create(
                code=code, defaults={"name": name, "line1": line1, "postal_code": postal_code,
                                     "city": city, "country": country})
            created["warehouses"] += was_created
        products = {}
        for index, (sku, name, price, tax, kg, (length, width, height), fragile,
                    _stock) in enumerate(PRODUCTS):
            products[sku], was_created = Product.objects.get_or_create(
                sku=sku, defaults={
                    "name": name, "unit_price": Decimal(price), "tax_rate": Decimal(tax),
                    # Books take the reduced rate in every member state.
                    "tax_category": "reduced" if tax == "5.50" else "standard",
                    "weight_kg": Decimal(kg), "length_cm": length, "width_cm": width,
                    "height_cm": height, "is_fragile": fragile})
            created["products"] += was_created
            if sku in COSTS:
                ProductCost.objects.get_or_create(product=products[sku], currency=COSTS[sku][0],
                                                  defaults={"cost": Decimal(COSTS[sku][1])})
            for aisle, code in enumerate(warehouses, start=1):
                BinLocation.objects.get_or_create(
                    product=products[sku], warehouse=warehouses[code],
                    defaults={"code": f"A{aisle:02d}-S{index // 4 + 1:02d}-B{index % 4 + 1:02d}"})
        Product.objects.filter(sku=PREORDER_SKU, available_from__isnull=True).update(
            available_from=timezone.localdate() + timedelta(days=PREORDER_DAYS))
        for currency, rate in EXCHANGE_RATES.items():
            ExchangeRate.objects.get_or_create(base="EUR", quote=currency,
                                               valid_from=RATES_FROM, defaults={"rate": rate})
    # Opening stock: only into stock levels that do not exist yet, so a second
    # run never receives the same goods twice.
    for sku, *_rest, stock in PRODUCTS:
        for code, quantity in stock.items():
            product, warehouse = products[sku], warehouses[code]
            if StockLevel.objects.filter(product=product, warehouse=warehouse).exists():
                continue
            receive_stock(product=product, warehouse=warehouse, quantity=quantity,
                          actor=actor, reference="DEMO-OPENING", reason="Opening stock (demo)")
            created["stock_receipts"] += 1
    created["prices"] = seed_price_lists(actor=actor)
    return created


# Catalogue default lists per currency: the euro figures converted at a
# rounded demo rate; resellers get 10 % off in euros, and 10+ units of a
# product a further break.
DEMO_RATES = {"EUR": Decimal("1"), "USD": Decimal("1.10"), "GBP": Decimal("0.86")}


def seed_price_lists(*, actor: Actor) -> int:
    """The demo's price lists (idempotent: lists found by name); prices set."""
    count = 0
    resellers, _new = CustomerGroup.objects.get_or_create(name="Resellers")
    lists: list[tuple[str, str, int | None, Decimal]] = [
        (f"Catalogue {currency}", currency, None, rate)
             for currency, rate in DEMO_RATES.items() if currency in settings.CURRENCIES]
    lists.append(("Resellers EUR", "EUR", resellers.pk, Decimal("0.90")))
    for name, currency, group, rate in lists:
        price_list = PriceList.objects.filter(name=name, currency=currency).first()
        if price_list is None:
            price_list = order_services.save_price_list(PriceListInput.parse(
                {"name": name, "currency": currency, "customer_group": group}), actor=actor)
        for sku, _name, price, *_rest in PRODUCTS:
            unit_price = quantize_money(Decimal(price) * rate, currency)
            order_services.set_price(price_list=price_list, actor=actor, data=PriceInput(
                sku=sku, min_quantity=1, unit_price=unit_price))
            if group is not None:
                order_services.set_price(price_list=price_list, actor=actor, data=PriceInput(
                    sku=sku, min_quantity=10,
                    unit_price=quantize_money(unit_price * Decimal("0.95"), currency)))
            count += 1
    return count


def seed_customers(*, actor: Actor) -> dict[str, Customer]:
    customers = {}
    for key, demo in CUSTOMERS.items():
        address = dict(zip(("line1", "postal_code", "city", "country"), demo.address, strict=True))
        customers[key] = upsert_customer(
            CustomerInput.parse({"email": demo.email, "name": demo.name, "kind": demo.kind,
                                 "phone": demo.phone, "vat_id": demo.vat_id, **demo.fields}),
            addresses=[CustomerAddressInput.parse({**address, "name": demo.name, "kind": kind,
                                                   "is_default": True})
                       for kind in ("billing", "shipping")],
            actor=actor)
    return customers


def _already_there(demo: DemoOrder) -> bool:
    """A demo order is placed again only when time has expired the last one."""
    orders = Order.objects.filter(notes=demo.note)
    if demo.status != OrderStatus.EXPIRED:
        orders = orders.exclude(status=OrderStatus.EXPIRED)
    return orders.exists()


def seed_orders(*, customers: dict[str, Customer], actor: Actor) -> list[tuple[DemoOrder, Order]]:
    """Place each demo order not yet showing its state; returns what was placed."""
    placed = []
    for demo in ORDERS:
        if _already_there(demo):
            continue
        customer = customers[demo.customer]
        shipping = customer.default_address("shipping")
        assert shipping is not None  # every demo customer has a shipping address
        order = order_services.place_order(order_services.PlaceOrder.parse({
            "customer": customer,
            "lines": [order_services.LineInput(sku=sku, quantity=quantity)
                      for sku, quantity in demo.lines],
            "channel": demo.channel, "currency": "EUR",
            "shipping_address": shipping.as_snapshot(),
            "payment": demo.payment, "notes": demo.note,
            "promised_delivery_date": timezone.localdate() + timedelta(days=10)}),
            actor=actor, draft=demo.draft)
        order.refresh_from_db(fields=["status"])
        if order.status == OrderStatus.PLACED:
            # No payment approver decided (none registered, or it failed): decide like
            # a person working the approval queue.
            if demo.hold_reason:
                order_services.hold_order(order_id=order.pk, reason_code=demo.hold_reason,
                                          reason_text=demo.note, actor=actor)
            else:
                order_services.approve_order(order_id=order.pk, actor=actor)
        if demo.then is not None:
            demo.then(order, actor)
        order.refresh_from_db()
        placed.append((demo, order))
    return placed
