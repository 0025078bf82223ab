"""Orders: the order, its lines, its state machine and its event timeline.

`orders` is the spine of order-to-cash. It may import `customers` and
`inventory` (models for reads, `inventory.api` for stock writes); billing and
fulfillment import `orders`, never the other way round. Every change goes
through `orders.services`, which calls a transition method below, saves, and
writes an `OrderEvent` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
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
from orders.taxes import VatReason, mention_for

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
# States in which the order may still be changed (orders.services.changes):
# placed and not shipped yet.
EDITABLE = [OrderStatus.PLACED, OrderStatus.ON_HOLD, OrderStatus.RESERVED,
            OrderStatus.BACKORDERED, OrderStatus.PICKING, OrderStatus.PACKED]
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
    # Discounts given by hand above the entering person's limit: a manager decides.
    DISCOUNT_LIMIT = "discount_limit", _("Discount above the limit of who entered it")


# Holds on the customer's money: released (approved) only by an actor with
# orders.release_credit_hold, never by the Sales who took the order.
CREDIT_HOLDS = (HoldReason.CREDIT_LIMIT, HoldReason.PREPAYMENT_MISSING)
RELEASE_CREDIT_HOLD = "orders.release_credit_hold"
# Approving an order whose manual discounts exceed its enterer's limit.
APPROVE_DISCOUNT = "orders.approve_discount"


def may_approve(order: models.Model, user) -> bool:
    """The approve/backorder transitions' permission: approvers, and for a
    credit or prepayment hold only those who may release it."""
    order = cast(Order, order)
    return user.has_perm("orders.approve_order") and (
        not order.is_credit_hold or user.has_perm(RELEASE_CREDIT_HOLD)) and (
        not order.discount_over_limit or user.has_perm(APPROVE_DISCOUNT))


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
    # When the order lapses unless approved (placed/on_hold only; orders.holds):
    # None while on hold means it waits until a person decides.
    hold_expires_at = models.DateTimeField(_("hold expires at"), null=True, blank=True)
    # When the order began waiting for its current hold reason (the queue's age).
    held_since = models.DateTimeField(_("held since"), null=True, blank=True)
    # The once-per-hold messages (orders.services.holds): the customer's
    # prepayment reminder and the managers' alert for a long review.
    hold_reminded_at = models.DateTimeField(_("hold reminder sent at"), null=True, blank=True)
    hold_alerted_at = models.DateTimeField(_("managers alerted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    # Every parcel arrived (fulfillment calls orders.services.mark_delivered);
    # from then on the customer may rate the order.
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
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
    # Stock that arrives for waiting lines goes to the highest priority first,
    # then first come first served (placed_at); default 0, negative allowed.
    priority = models.SmallIntegerField(_("allocation priority"), default=0)
    # True: the order leaves in one parcel once every line is reserved; False:
    # what is ready ships now, the rest follows. None: the customer's choice
    # (Customer.ship_complete).
    ship_complete = models.BooleanField(_("ship complete"), null=True, blank=True)
    # Discounts (orders.discounts): the order discount as entered (a percent,
    # or None for an amount) and as an amount; the code's discount; all of
    # them with the lines' own. Every one is net of tax and already in the
    # lines' nets, so the totals are the sums of the lines.
    discount_percent = models.DecimalField(_("order discount (%)"), max_digits=5,
                                           decimal_places=2, null=True, blank=True)
    discount_amount = models.DecimalField(_("order discount"), max_digits=14,
                                          decimal_places=2, default=Decimal("0.00"))
    code_discount = models.DecimalField(_("discount code"), max_digits=14, decimal_places=2,
                                        default=Decimal("0.00"))
    discount_total = models.DecimalField(_("discounts"), max_digits=14, decimal_places=2,
                                         default=Decimal("0.00"))
    # The manual discounts exceed what the person who entered them may give
    # (discount_limit, None: no limit); approving it takes APPROVE_DISCOUNT.
    discount_over_limit = models.BooleanField(_("discount over the limit"), default=False)
    discount_limit = models.DecimalField(_("discount limit"), max_digits=14,
                                         decimal_places=2, null=True, blank=True)
    # The shipping charge line (orders.shipping), taxed like the goods.
    shipping_label = models.CharField(_("shipping"), max_length=100, blank=True)
    shipping_net = models.DecimalField(_("shipping charge (net)"), max_digits=14,
                                       decimal_places=2, default=Decimal("0.00"))
    shipping_tax_rate = models.DecimalField(_("shipping tax rate (%)"), max_digits=5,
                                            decimal_places=2, default=Decimal("0.00"))
    # The VAT decision (orders.taxes), recorded at placement so the invoice
    # states it whatever the rates or the customer record say later.
    vat_reason = models.CharField(_("VAT treatment"), max_length=30, choices=VatReason.choices,
                                  default=VatReason.CATALOGUE)
    vat_mention = models.TextField(_("VAT legal mention"), blank=True)
    vat_buyer_id = models.CharField(_("buyer VAT id"), max_length=40, blank=True)
    vat_seller_country = models.CharField(_("seller country"), max_length=2, blank=True)
    vat_destination_country = models.CharField(_("destination country"), max_length=2,
                                               blank=True)

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
            ("export_orders", _("Can export orders to CSV")),
            ("approve_discount", _("Can approve discounts above the entering person's limit")),
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

    @property
    def vat_legal_mention(self) -> str:
        """The VAT decision's legal mention in the reader's language."""
        return mention_for(self.vat_reason) or self.vat_mention

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

    # No permission: the system, when a change adds units a "ship complete"
    # order must now wait for (orders.services.changes).
    @transition(field=status, source=OrderStatus.RESERVED, target=OrderStatus.BACKORDERED,
                permission=lambda order, user: False)
    def await_stock(self) -> None:
        """A change added units that are not in stock; the order waits whole."""

    @transition(field=status, source=OrderStatus.PLACED, target=OrderStatus.ON_HOLD,
                permission="orders.approve_order")
    def hold(self, *, reason_code: str, reason_text: str = "", hold_expires_at) -> None:
        self._start_wait(reason_code, hold_expires_at)
        self.hold_note = reason_text

    @transition(field=status, source=OrderStatus.ON_HOLD, target=OrderStatus.ON_HOLD,
                permission="orders.approve_order")
    def change_hold(self, *, reason_code: str, reason_text: str = "", hold_expires_at) -> None:
        """Still held, now for another reason (the customer's new card was
        authorised; the order waits for a person instead). The same reason
        again only changes the note: the wait and its deadline go on."""
        if reason_code != self.hold_reason:
            self._start_wait(reason_code, hold_expires_at)
        self.hold_note = reason_text

    def _start_wait(self, reason_code: str, hold_expires_at) -> None:
        self.hold_reason = reason_code
        self.hold_expires_at = hold_expires_at
        self.held_since = timezone.now()
        self.hold_reminded_at = None
        self.hold_alerted_at = None

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

    # A partial shipment ("ship what is ready", or a short pick): the order
    # goes back to wait for its next shipment.
    @transition(field=status, source=[OrderStatus.PICKING, OrderStatus.PACKED],
                target=OrderStatus.RESERVED, permission="fulfillment.change_shipment")
    def part_shipped(self) -> None:
        """A part left; stock for the next shipment is reserved."""

    @transition(field=status, source=[OrderStatus.PICKING, OrderStatus.PACKED],
                target=OrderStatus.BACKORDERED, permission="fulfillment.change_shipment")
    def part_shipped_waiting(self) -> None:
        """A part left; the rest waits for stock."""

    # No permission: the system, when the last waiting units of a partly
    # shipped order are cancelled and what left is all there is.
    @transition(field=status, source=[OrderStatus.BACKORDERED, OrderStatus.RESERVED],
                target=OrderStatus.SHIPPED, permission=lambda order, user: False)
    def close_shipped(self) -> None:
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
    def manual_discount(self) -> Decimal:
        """The discounts given by hand (lines and order), without the code's."""
        return self.discount_total - self.code_discount

    @property
    def has_shipping_charge(self) -> bool:
        return bool(self.shipping_label) or self.shipping_net > 0

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
    def is_editable(self) -> bool:
        """Lines, addresses, carrier, promised date and notes may still change:
        placed and nothing has left in full (after shipment: returns or a
        supplementary invoice)."""
        return self.status in EDITABLE

    @property
    def holds_firm_stock(self) -> bool:
        """Approved: its stock is reserved firmly (no expiry) or waits on its lines."""
        return self.status in (OrderStatus.RESERVED, OrderStatus.BACKORDERED,
                               OrderStatus.PICKING, OrderStatus.PACKED)

    @property
    def may_cancel_waiting(self) -> bool:
        """Approved and not yet shipped: a line's backordered rest may be dropped."""
        return self.status in (OrderStatus.BACKORDERED, OrderStatus.RESERVED,
                               OrderStatus.PICKING, OrderStatus.PACKED)

    @property
    def ships_complete(self) -> bool:
        """The order leaves in one parcel (its own choice, else its customer's);
        False: the ready part may leave and the rest follows."""
        if self.ship_complete is not None:
            return self.ship_complete
        return self.customer.ship_complete

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

    @property
    def is_fully_shipped(self) -> bool:
        """Nothing is left to ship: every unit left (or its rest was cancelled)."""
        return self.status in (OrderStatus.SHIPPED, OrderStatus.INVOICED, OrderStatus.PAID)

    @property
    def is_delivered(self) -> bool:
        """Every parcel of the order arrived."""
        return self.delivered_at is not None

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
    # Looked up through orders_orderline_position_uniq (order, position): a
    # second index on order alone would only slow every write of a line.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines",
                              verbose_name=_("order"), db_index=False)
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
    # line_net = quantize(unit_price * quantity) - discount - order_discount:
    # the line's own discount (entered as a percent, or an amount when
    # discount_percent is None) and its share of the order's discounts.
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2,
                                           null=True, blank=True)
    discount = models.DecimalField(_("discount"), max_digits=14, decimal_places=2,
                                   default=Decimal("0.00"))
    order_discount = models.DecimalField(_("share of the order discount"), max_digits=14,
                                         decimal_places=2, default=Decimal("0.00"))
    # Units waiting for stock: not reserved anywhere yet (short at approval,
    # or not found by the picker). orders.services.allocate_waiting reserves
    # them as stock arrives; quantity = shipped + reserved + backordered +
    # cancelled at all times.
    backordered_quantity = models.PositiveIntegerField(_("backordered quantity"), default=0)
    # Backordered units the customer no longer waits for (cancel_backordered_rest).
    cancelled_quantity = models.PositiveIntegerField(_("cancelled quantity"), default=0)
    # Set when the product was ordered before its release date (a pre-order):
    # the line waits and is allocated once stock is in and the date is reached.
    available_from = models.DateField(_("pre-order, available from"), null=True, blank=True)
    # What one unit cost us, in the order's currency, copied at placement
    # (orders.costs): the margin stays what it was when sold. Null: no cost
    # known, and the margin is unknown (never 100 %).
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2,
                                    null=True, blank=True)

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
            models.CheckConstraint(
                condition=models.Q(discount__gte=0, order_discount__gte=0, line_net__gte=0),
                name="orders_orderline_discount_within_line"),
            models.CheckConstraint(
                condition=models.Q(backordered_quantity__lte=models.F("quantity")
                                   - models.F("cancelled_quantity")),
                name="orders_orderline_waiting_within_quantity"),
        ]
        indexes = [
            # allocate_waiting reads only the lines that wait.
            models.Index(fields=["product", "order"], name="orders_orderline_waiting_idx",
                         condition=models.Q(backordered_quantity__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def is_preorder(self) -> bool:
        return self.available_from is not None

    def waits_for_release(self, day: date) -> bool:
        """A pre-order line before its release date: it is not allocated yet."""
        return self.available_from is not None and day < self.available_from

    @property
    def list_net(self) -> Decimal:
        """The line's value before discounts."""
        return self.line_net + self.discount + self.order_discount


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
    ALLOCATED = "allocated", _("Stock allocated")  # waiting units reserved
    LINE_CANCELLED = "line_cancelled", _("Line cancelled")  # backordered rest dropped
    CHANGED = "changed", _("Order changed")  # lines, addresses, carrier, date or notes
    RETURN = "return", _("Return")  # a return opened or moved on (orders.return_models)
    UNPICKED = "unpicked", _("Unpicked")  # picked units put back on the shelf
    ADDRESS_REQUEST = "address_request", _("Address change request")  # asked or decided
    DELIVERED = "delivered", _("Delivered")  # every parcel of the order arrived


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
    # With `figures` ("open", "invoices", "order", "total", "limit"; with
    # "order_converted" when the order is in another currency than the limit).
    CREDIT_EXPOSURE = "credit_exposure", _(
        "Open orders %(open)s plus unpaid invoices %(invoices)s plus this order %(order)s "
        "make %(total)s, over the credit limit %(limit)s.")
    CREDIT_EXPOSURE_CONVERTED = "credit_exposure_converted", _(
        "Open orders %(open)s plus unpaid invoices %(invoices)s plus this order %(order)s "
        "(%(order_converted)s) make %(total)s, over the credit limit %(limit)s.")
    # With `figures` {"from", "to"}: currency codes.
    CREDIT_RATE_MISSING = "credit_rate_missing", _(
        "No exchange rate from %(from)s to %(to)s: the credit exposure cannot be computed; "
        "check the credit limit by hand.")
    # With `figures`: {"discount"|"limit": {"amount", "currency"}}.
    DISCOUNT_LIMIT = "discount_limit", _(
        "Discounts of %(discount)s given by hand exceed the %(limit)s the person who entered "
        "the order may give: a manager approves it.")
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
            text %= {name: _amount(value) if isinstance(value, dict) else str(value)
                     for name, value in figures.items()}
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


def _return_summary(event: OrderEvent) -> str:
    """A return moved on: `data` {"number", "status"[, "settlement", "credit_note_number",
    "exchange_order_number", "amount", "currency"]}; the reason as typed."""
    text = gettext("Return %(number)s: %(status)s.") % {
        "number": event.data["number"], "status": ReturnStatus(event.data["status"]).label}
    if event.data.get("settlement"):
        text += " " + str(Settlement(event.data["settlement"]).label)
        if event.data.get("amount"):
            text += f" {_amount(event.data)}"
        if event.data.get("credit_note_number"):
            text += f" ({event.data['credit_note_number']})"
        if event.data.get("exchange_order_number"):
            text += f" ({event.data['exchange_order_number']})"
    if event.reason:
        text += f" {event.reason}"
    return text


def _address_request_summary(event: OrderEvent) -> str:
    """An address change request: `data` {"status", "line1", "city",
    "country"}; the reason of a refusal as typed."""
    status = event.data["status"]
    place = ", ".join(part for part in (event.data.get("line1", ""), event.data.get("city", ""),
                                        event.data.get("country", "")) if part)
    if status == "accepted":
        text = gettext("Address change to %(place)s accepted.") % {"place": place}
    elif status == "refused":
        text = gettext("Address change to %(place)s refused.") % {"place": place}
    else:
        text = gettext("The customer asks to deliver to %(place)s.") % {"place": place}
    return f"{text} {event.reason}" if event.reason else text


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
    EventKind.ALLOCATED: lambda event: _allocated(event.data),
    EventKind.LINE_CANCELLED: lambda event: gettext(
        "Backordered rest cancelled: %(quantity)d x %(sku)s.") % {
        "quantity": event.data["quantity"], "sku": event.data["sku"]},
    EventKind.RETURN: lambda event: _return_summary(event)
        + (f" {event.reason}" if event.reason else ""),
    EventKind.CHANGED: lambda event: change_summary(event.data),
    EventKind.UNPICKED: lambda event: gettext(
        "Unpicked on %(pick_list)s: %(quantity)d x %(sku)s back to bin %(bin)s (%(warehouse)s); "
        "they are reserved, not picked.") % {
        "pick_list": event.data["pick_list"], "quantity": event.data["quantity"],
        "sku": event.data["sku"], "bin": event.data["bin"] or "—",
        "warehouse": event.data["warehouse"]} + (f" {event.reason}" if event.reason else ""),
    EventKind.ADDRESS_REQUEST: lambda event: _address_request_summary(event),
    EventKind.DELIVERED: lambda event: gettext("Every parcel was delivered (%(shipments)s).")
        % {"shipments": ", ".join(event.data.get("shipments", []))},
}


# The fields a change may set, in the reader's language.
CHANGE_FIELDS = {
    "shipping_address": _("Shipping address"),
    "billing_address": _("Billing address"),
    "requested_carrier": _("Carrier"),
    "promised_delivery_date": _("Promised delivery date"),
    "notes": _("Notes"),
}


def change_summary(data: dict) -> str:
    """An "order changed" payload (orders.events.order_changed) in the active
    language: the lines before and after, the fields named, the new total."""
    parts = []
    for line in data.get("lines", []):
        if line["before"] == 0:
            parts.append(gettext("added %(after)d x %(sku)s") % line)
        elif line["after"] == 0:
            parts.append(gettext("removed %(before)d x %(sku)s") % line)
        else:
            parts.append(gettext("%(sku)s from %(before)d to %(after)d") % line)
    parts += [str(CHANGE_FIELDS[name]).lower() if parts else str(CHANGE_FIELDS[name])
              for name in data.get("fields", {}) if name in CHANGE_FIELDS]
    text = gettext("Order changed: %(changes)s.") % {"changes": "; ".join(parts)}
    totals = data.get("totals")
    if totals and totals["before"] != totals["after"]:
        text += " " + gettext("Total %(before)s, now %(after)s.") % {
            "before": money(Decimal(totals["before"]), totals["currency"]),
            "after": money(Decimal(totals["after"]), totals["currency"])}
    return text


def _allocated(data: dict) -> str:
    units = ", ".join(f"{quantity} x {data['skus'].get(line_id, line_id)}"
                      for line_id, quantity in data["allocated"].items())
    text = gettext("Stock reserved: %(units)s.") % {"units": units}
    if data.get("waiting"):
        text += " " + gettext("%(n)d units still waiting.") % {"n": data["waiting"]}
    return text


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


# Registered with the orders app here; they import nothing of this module.
from orders.address_request_models import (  # noqa: E402, F401
    AddressChangeRequest,
    AddressRequestStatus,
)
from orders.charge_models import (  # noqa: E402, F401
    DiscountCode,
    DiscountKind,
    DiscountRedemption,
    ShippingRate,
)
from orders.feedback_models import OrderFeedback  # noqa: E402, F401
from orders.link_models import OrderLink  # noqa: E402, F401
from orders.notice_models import NoticeRule  # noqa: E402, F401
from orders.return_models import (  # noqa: E402, F401
    RETURN_NUMBER_SEQUENCE,
    Return,
    ReturnChannel,
    ReturnLine,
    ReturnReason,
    ReturnStatus,
    Settlement,
    next_return_number,
)
from orders.template_models import OrderTemplate, OrderTemplateLine  # noqa: E402, F401
