"""Orders: the order, its lines, its state machine and its event timeline.

`orders` is the spine of order-to-cash. It may import `customers` and
`inventory` (models for reads, `inventory.api` for stock writes); billing and
fulfillment import `orders`, never the other way round. Every change goes
through `orders.services`, which calls a transition method below, saves, and
writes an `OrderEvent` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import connection, models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from customers.models import Customer
from oms.lib.money import format_money as money
from orders.price_lists import PriceList, PriceListEntry, PriceScope  # noqa: F401  (models)

# The sequence behind order numbers (created by migration 0001).
ORDER_NUMBER_SEQUENCE = "orders_order_number_seq"


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # being entered; no stock held, not visible to fulfilment
    PLACED = "placed", _("Placed")  # stock held with an expiry, payment approval running
    ON_HOLD = "on_hold", _("On hold")  # waiting for a person's decision (see hold_reason)
    RESERVED = "reserved", _("Reserved")  # payment approved, stock firmly allocated
    BACKORDERED = "backordered", _("Backordered")  # approved, but lines wait for stock
    PICKING = "picking", _("Picking")  # on a pick list; the warehouse is collecting it
    PACKED = "packed", _("Packed")  # every warehouse's part is packed, waiting for the carrier
    SHIPPED = "shipped", _("Shipped")  # every shipment left; stock consumed, billing invoices
    INVOICED = "invoiced", _("Invoiced")  # billing issued the invoice
    PAID = "paid", _("Paid")  # the invoices are settled; the cycle is complete
    EXPIRED = "expired", _("Expired")  # the hold lapsed before approval; stock released
    CANCELLED = "cancelled", _("Cancelled")  # cancelled or rejected; stock released


# States in which the order still holds or waits for stock and may be cancelled.
CANCELLABLE = [OrderStatus.DRAFT, OrderStatus.PLACED, OrderStatus.ON_HOLD,
               OrderStatus.RESERVED, OrderStatus.BACKORDERED,
               OrderStatus.PICKING, OrderStatus.PACKED]
# States that end the order's life without fulfilment.
CLOSED = [OrderStatus.EXPIRED, OrderStatus.CANCELLED]


class Channel(models.TextChoices):
    WEB = "web", _("Web shop")
    PHONE = "phone", _("Phone")
    STORE = "store", _("Store")
    EMAIL = "email", _("E-mail")
    API = "api", _("API")
    IMPORT = "import", _("Import")


class HoldReason(models.TextChoices):
    NEW_CUSTOMER = "new_customer", _("New customer needs approval")
    CREDIT_LIMIT = "credit_limit", _("Over the credit limit")
    PAYMENT_DECLINED = "payment_declined", _("Payment declined")
    PREPAYMENT_MISSING = "prepayment_missing", _("Prepayment missing")
    LATE_DELIVERY = "late_delivery", _("Cannot be delivered by the promised date")
    MANUAL = "manual", _("Held by hand")
    # An API token the customer does not allow placed it: did the customer order?
    ACCOUNT_REVIEW = "account_review", _("Placed through the API: confirm with the customer")


# Holds on the customer's money: released (approved) only by an actor with
# orders.release_credit_hold, never by the Sales who took the order.
CREDIT_HOLDS = (HoldReason.CREDIT_LIMIT, HoldReason.PREPAYMENT_MISSING)
RELEASE_CREDIT_HOLD = "orders.release_credit_hold"


def may_approve(order: models.Model, user) -> bool:
    """The approve/backorder transitions' permission: approvers, and for a
    credit or prepayment hold only those who may release it."""
    return user.has_perm("orders.approve_order") and (
        not cast(Order, order).is_credit_hold or user.has_perm(RELEASE_CREDIT_HOLD))


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    PAYPAL = "paypal", _("PayPal")
    NET_TERMS = "net_terms", _("Net terms (invoice)")


def next_order_number(*, year: int | None = None) -> str:
    """`SO-<year>-<6+ digits>` from a PostgreSQL sequence.

    A sequence never blocks concurrent placements and never hands out a value
    twice; a rolled-back placement leaves a gap, which is fine for order
    numbers (invoices, which must be gapless, number themselves).
    """
    year = year or timezone.localdate().year
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [ORDER_NUMBER_SEQUENCE])
        (value,) = cursor.fetchone()
    return f"SO-{year}-{value:06d}"


class Order(FSMModelMixin, models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders",
                                 verbose_name=_("customer"),
                                 db_index=False)  # covered by orders_customer_created_idx
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    currency = models.CharField(_("currency"), max_length=3)
    status = FSMField(_("status"), max_length=20, choices=OrderStatus.choices,
                      default=OrderStatus.DRAFT, protected=True)
    hold_reason = models.CharField(_("hold reason"), max_length=30, choices=HoldReason.choices,
                                   blank=True)
    hold_note = models.TextField(_("hold note"), blank=True)
    # Snapshots of Address.as_snapshot(): the order keeps the address it was
    # placed with even when the customer's address book changes later.
    shipping_address = models.JSONField(_("shipping address"), default=dict)
    billing_address = models.JSONField(_("billing address"), default=dict)
    promised_delivery_date = models.DateField(_("promised delivery date"), null=True,
                                              blank=True)
    payment_method = models.CharField(_("payment method"), max_length=20,
                                      choices=PaymentMethod.choices, blank=True)
    total_net = models.DecimalField(_("net total"), max_digits=14, decimal_places=2,
                                    default=Decimal("0.00"))
    total_tax = models.DecimalField(_("tax total"), max_digits=14, decimal_places=2,
                                    default=Decimal("0.00"))
    total_gross = models.DecimalField(_("gross total"), max_digits=14, decimal_places=2,
                                      default=Decimal("0.00"))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    placed_at = models.DateTimeField(_("placed at"), null=True, blank=True)
    # When the stock hold lapses unless payment is approved (placed/on_hold only).
    hold_expires_at = models.DateTimeField(_("stock hold expires at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    # The carrier the customer asked for (free text from the channel); the
    # shipping screen shows it next to the carrier choice.
    requested_carrier = models.CharField(_("requested carrier"), max_length=100, blank=True)
    # The integration whose token placed the order through the JSON API (None:
    # back office, import); `GET /api/v1/orders/{number}` answers only that
    # token. No index: the API reads by the unique number, then compares.
    api_token = models.ForeignKey("oms.ApiToken", on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", db_index=False,
                                  verbose_name=_("API token"))
    # Placed through the API with a token the customer does not allow on its
    # account (`Customer.allows_api_token`): the customer's payment terms,
    # credit limit and standing do not apply; payment approval holds it
    # for review (HoldReason.ACCOUNT_REVIEW) instead of approving.
    account_unverified = models.BooleanField(_("account not verified"), default=False)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("place_order", _("Can place orders")),
            ("cancel_order", _("Can cancel orders")),
            ("approve_order", _("Can approve, hold and reject orders")),
            ("release_credit_hold", _("Can release orders held for credit or prepayment")),
            ("add_note", _("Can add notes to orders")),
            ("import_orders", _("Can import orders from files")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_gross=models.F("total_net") + models.F("total_tax")),
                name="orders_order_gross_is_net_plus_tax"),
            models.CheckConstraint(
                condition=~models.Q(status="on_hold") | ~models.Q(hold_reason=""),
                name="orders_order_on_hold_has_reason"),
        ]
        indexes = [
            # The order list: newest first, optionally by status, keyset-paginated
            # on (sort key, id).
            models.Index(fields=["-created_at", "-id"], name="orders_created_idx"),
            models.Index(fields=["status", "-placed_at", "-id"], name="orders_status_placed_idx"),
            models.Index(fields=["status", "-created_at", "-id"],
                         name="orders_status_created_idx"),
            models.Index(fields=["channel", "-created_at", "-id"],
                         name="orders_channel_created_idx"),
            models.Index(fields=["-placed_at", "-id"], name="orders_placed_idx"),
            models.Index(fields=["-total_gross", "-id"], name="orders_total_idx"),
            models.Index(fields=["customer", "-created_at"], name="orders_customer_created_idx"),
            # Number search by prefix ("SO-2026-0001") uses the varchar_pattern_ops
            # index PostgreSQL gets for the unique `number`; by any fragment ("1234"):
            GinIndex(OpClass(Upper("number"), name="gin_trgm_ops"), name="orders_number_trgm"),
            # The expiry sweep and the approval queue read only open orders.
            models.Index(fields=["hold_expires_at"], name="orders_hold_expiry_idx",
                         condition=models.Q(status__in=["placed", "on_hold"])),
            models.Index(fields=["placed_at", "id"], name="orders_on_hold_idx",
                         condition=models.Q(status="on_hold")),
        ]

    def __str__(self) -> str:
        return self.number

    # --- Transitions: they only change fields. `permission` lets the detail
    # page show exactly the buttons the user may press.

    @transition(field=status, source=OrderStatus.DRAFT, target=OrderStatus.PLACED,
                permission="orders.place_order")
    def place(self, *, hold_expires_at) -> None:
        self.placed_at = timezone.now()
        self.hold_expires_at = hold_expires_at

    @transition(field=status, source=[OrderStatus.PLACED, OrderStatus.ON_HOLD],
                target=OrderStatus.RESERVED, permission=may_approve)
    def approve(self) -> None:
        self.hold_reason = ""
        self.hold_expires_at = None

    @transition(field=status, source=[OrderStatus.PLACED, OrderStatus.ON_HOLD],
                target=OrderStatus.BACKORDERED, permission=may_approve)
    def backorder(self) -> None:
        self.hold_reason = ""
        self.hold_expires_at = None

    @transition(field=status, source=OrderStatus.BACKORDERED, target=OrderStatus.RESERVED,
                permission="orders.approve_order")
    def allocate(self) -> None:
        """Stock arrived for a backordered order and is now firmly allocated."""

    @transition(field=status, source=OrderStatus.PLACED, target=OrderStatus.ON_HOLD,
                permission="orders.approve_order")
    def hold(self, *, reason_code: str, reason_text: str = "") -> None:
        self.hold_reason = reason_code
        self.hold_note = reason_text

    @transition(field=status, source=OrderStatus.ON_HOLD, target=OrderStatus.ON_HOLD,
                permission="orders.approve_order")
    def change_hold(self, *, reason_code: str, reason_text: str = "") -> None:
        """Still held, now for another reason (the customer's new card was
        authorised; the order waits for a person instead)."""
        self.hold_reason = reason_code
        self.hold_note = reason_text

    @transition(field=status, source=OrderStatus.ON_HOLD, target=OrderStatus.CANCELLED,
                permission="orders.approve_order")
    def reject(self) -> None:
        self.hold_expires_at = None
        self.closed_at = timezone.now()

    @transition(field=status, source=CANCELLABLE, target=OrderStatus.CANCELLED,
                permission="orders.cancel_order")
    def cancel(self) -> None:
        self.hold_expires_at = None
        self.closed_at = timezone.now()

    # No permission: only the system (the expiry sweep) expires orders.
    @transition(field=status, source=[OrderStatus.PLACED, OrderStatus.ON_HOLD],
                target=OrderStatus.EXPIRED, permission=lambda order, user: False)
    def expire(self) -> None:
        self.hold_expires_at = None
        self.closed_at = timezone.now()

    # --- Fulfilment and billing (orders.services.fulfilment). The warehouse
    # drives picking -> packed -> shipped; billing, as the system, invoiced
    # and paid. Cancelling stays possible until shipment (see CANCELLABLE).

    @transition(field=status, source=OrderStatus.RESERVED, target=OrderStatus.PICKING,
                permission="fulfillment.add_picklist")
    def start_picking(self) -> None:
        """The order is on a pick list."""

    @transition(field=status, source=OrderStatus.PICKING, target=OrderStatus.PACKED,
                permission="fulfillment.add_shipment")
    def pack(self) -> None:
        """Every warehouse's part of the order is packed."""

    @transition(field=status, source=OrderStatus.PACKED, target=OrderStatus.SHIPPED,
                permission="fulfillment.change_shipment")
    def ship(self) -> None:
        self.shipped_at = timezone.now()

    @transition(field=status, source=OrderStatus.SHIPPED, target=OrderStatus.INVOICED,
                permission=lambda order, user: False)
    def invoice(self) -> None:
        """Billing issued the invoice (system only, on "order.shipped")."""

    @transition(field=status, source=OrderStatus.INVOICED, target=OrderStatus.PAID,
                permission=lambda order, user: False)
    def pay(self) -> None:
        self.closed_at = timezone.now()

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED

    # --- Fulfilment predicates: what the warehouse asks instead of reading
    # the status.
    PICKABLE = (OrderStatus.RESERVED, OrderStatus.PICKING)

    @property
    def is_pickable(self) -> bool:
        """Its reserved stock may go onto a pick list."""
        return self.status in self.PICKABLE

    @property
    def is_picking(self) -> bool:
        return self.status == OrderStatus.PICKING

    @property
    def is_in_warehouse(self) -> bool:
        """Picked or packed: a packed shipment of it may leave."""
        return self.status in (OrderStatus.PICKING, OrderStatus.PACKED)

    @property
    def is_cancelled(self) -> bool:
        return self.status == OrderStatus.CANCELLED

    # --- Predicates billing asks instead of comparing status strings.

    @property
    def awaits_payment_approval(self) -> bool:
        """Placed, and the automatic payment approval has not decided yet."""
        return self.status == OrderStatus.PLACED

    @property
    def is_on_hold(self) -> bool:
        """Waiting for a person's decision (see hold_reason)."""
        return self.status == OrderStatus.ON_HOLD

    def is_held_for(self, reason: str) -> bool:
        return self.is_on_hold and self.hold_reason == reason

    @property
    def is_credit_hold(self) -> bool:
        """Held for its credit limit or a missing prepayment (CREDIT_HOLDS)."""
        return self.is_on_hold and self.hold_reason in CREDIT_HOLDS

    @staticmethod
    def owing_q() -> models.Q:
        """Orders that count against the customer's credit: placed, not yet paid or closed."""
        return ~models.Q(status__in=[OrderStatus.DRAFT, OrderStatus.PAID, *CLOSED])

    @staticmethod
    def awaiting_decision_q(*, placed_before) -> models.Q:
        """On hold, or placed before `placed_before` and still undecided."""
        return (models.Q(status=OrderStatus.ON_HOLD)
                | models.Q(status=OrderStatus.PLACED, placed_at__lt=placed_before))

    @staticmethod
    def closed_q(prefix: str = "") -> models.Q:
        """Ended without fulfilment (expired or cancelled); `prefix` for a relation."""
        return models.Q(**{f"{prefix}status__in": CLOSED})


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines",
                              verbose_name=_("order"))
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("product"))
    # Catalogue snapshot at placement: later price changes never touch the order.
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    # quantize(unit_price * quantity); tax is computed per rate on the order.
    line_net = models.DecimalField(_("line net"), max_digits=14, decimal_places=2)
    # Units the picker could not find (short pick): they wait for stock
    # instead of being silently dropped; see orders.services.record_short_pick.
    backordered_quantity = models.PositiveIntegerField(_("backordered quantity"), default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"],
                                    name="orders_orderline_position_uniq"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="orders_orderline_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0),
                                   name="orders_orderline_unit_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


def _status_label(value: str) -> str:
    try:
        return str(OrderStatus(value).label)
    except ValueError:  # a state added later and since removed, or blank
        return value


class EventKind(models.TextChoices):
    # Each kind has one writer in orders.events; OrderEvent.summary renders it.
    CREATED = "created", _("Created")
    STATUS_CHANGED = "status_changed", _("Status changed")
    NOTE = "note", _("Note")
    EMAIL = "email", _("E-mail queued")
    PAYMENT = "payment", _("Payment")  # money recorded against an invoice
    CREDIT_APPLIED = "credit_applied", _("Customer credit")
    CREDIT_NOTE = "credit_note", _("Credit note")
    CARD_AUTHORISED = "card_authorised", _("Card")  # re-entered, still waiting
    PREPAYMENT = "prepayment", _("Prepayment")  # received, still waiting
    CAPTURE_FAILED = "capture_failed", _("Capture")
    STOCK = "stock", _("Stock")  # a short pick


class StatusCause(models.TextChoices):
    # A status change the system made, explained in the reader's language.
    HOLD_LAPSED = "hold_lapsed", _("The stock hold lapsed before the payment was approved.")
    # The payment approval's verdicts (billing.services.approval.decide).
    AUTO_APPROVED = "auto_approved", _("Payment approved automatically.")
    NEW_CUSTOMER = "new_customer", _(
        "First orders of a new customer need approval by Sales or Accounting.")
    PREPAYMENT_MISSING = "prepayment_missing", _(
        "Prepayment by bank transfer has not been received.")
    GATEWAY_REVIEW = "gateway_review", _(
        "The payment gateway flagged the payment for a manual review.")
    NO_CARD = "no_card", _("No card details were given.")
    # With `figures`: {"open"|"order"|"limit": {"amount", "currency"}}.
    CREDIT_LIMIT = "credit_limit", _(
        "Open orders %(open)s plus this order %(order)s exceed the credit limit %(limit)s.")
    ACCOUNT_REVIEW = "account_review", _(
        "Placed through an API token this customer does not allow on its account: its "
        "payment terms and standing do not apply until Sales confirm the order.")


def _status_reason(event: OrderEvent) -> str:
    cause = event.data.get("cause")
    if cause not in StatusCause.values:
        text = event.reason
    else:
        text = str(StatusCause(cause).label)
        figures = event.data.get("figures")
        if figures:
            text %= {name: _amount(value) for name, value in figures.items()}
    released = event.data.get("released_hold")
    if released in CREDIT_HOLDS:
        # Who released a credit hold matters to the audit: say which hold it was.
        hold = gettext("Hold released: %(hold)s.") % {"hold": HoldReason(released).label}
        return f"{hold} {text}" if text else hold
    return text


def _amount(data: dict) -> str:
    return money(Decimal(data["amount"]), data["currency"])


def _waiting_for(data: dict) -> str:
    try:
        return str(HoldReason(data["waiting_for"]).label)
    except ValueError:
        return data["waiting_for"]


# The timeline text of each kind (orders.events writes the payloads), in the
# active language: the reader's. Other kinds show their text as written.
_SUMMARIES: dict[str, Callable[..., str]] = {
    EventKind.STATUS_CHANGED: _status_reason,
    EventKind.EMAIL: lambda event: "",
    EventKind.PAYMENT: lambda event: gettext(
        "Payment of %(amount)s (%(method)s%(reference)s) recorded on invoice %(number)s.") % {
        "amount": _amount(event.data), "method": gettext(event.data["method_label"]),
        "reference": f", {event.data['reference']}" if event.data["reference"] else "",
        "number": event.data["invoice_number"]},
    EventKind.CREDIT_APPLIED: lambda event: gettext(
        "Customer credit of %(amount)s applied to invoice %(number)s.") % {
        "amount": _amount(event.data), "number": event.data["invoice_number"]},
    EventKind.CREDIT_NOTE: lambda event: gettext(
        "Credit note %(note)s on invoice %(invoice)s: %(reason)s") % {
        "note": event.data["credit_note_number"], "invoice": event.data["invoice_number"],
        "reason": event.reason},
    EventKind.CARD_AUTHORISED: lambda event: gettext(
        "The customer re-entered card details: %(card)s authorised. Still waiting "
        "for approval: %(why)s") % {"card": f"{event.data['brand']} •••• {event.data['last4']}",
                                    "why": _waiting_for(event.data)},
    EventKind.PREPAYMENT: lambda event: gettext(
        "The prepayment was received. Still waiting for approval: %(why)s") % {
        "why": _waiting_for(event.data)},
    EventKind.CAPTURE_FAILED: lambda event: gettext(
        "The card payment could not be captured at shipment: %(why)s") % {
        "why": event.data["error"]},
    EventKind.STOCK: lambda event: event.reason or gettext(
        "Short pick: missing units backordered."),
}


class OrderEvent(models.Model):
    """One row of an order's timeline; written in the transaction of the change."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events",
                              verbose_name=_("order"), db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("actor"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order_id", "created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at", "id"],
                                name="orders_event_timeline_idx")]

    def __str__(self) -> str:
        if self.to_status:
            return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"
        return f"{self.order_id}: {self.kind}"

    @property
    def from_label(self) -> str:
        return _status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return _status_label(self.to_status)

    @property
    def is_placement(self) -> bool:
        """Written by the placement itself: created, or draft -> placed."""
        return self.kind == EventKind.CREATED or (
            self.from_status == OrderStatus.DRAFT and self.to_status == OrderStatus.PLACED)

    @property
    def summary(self) -> str:
        """What happened, in the reader's language. A note, and a row written
        before the typed kinds (business facts as notes), shows its text as
        written."""
        render = _SUMMARIES.get(self.kind)
        return render(self) if render is not None else self.reason

    @property
    def actor_label(self) -> str:
        if self.actor is None:
            return str(_("System"))
        return self.actor.get_full_name() or self.actor.get_username()
