"""Returns (RMA): goods a customer sends back after shipment.

Imported by `orders.models` (so Django registers them there); it names the
order, its lines and the warehouse by label and imports no other orders
module. Writes go through `orders.services.returns`; the return changes
status only through its transition methods (a protected state machine),
which the services call, then save, then record the change on the order's
timeline, in one transaction. The warehouse (fulfillment) receives and
inspects, accounting (billing) settles, each through those services.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import connection, models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from oms.lib.money import MONEY_DIGITS, MONEY_PLACES

# The sequence behind return numbers (created by the migration).
RETURN_NUMBER_SEQUENCE = "orders_return_number_seq"


def next_return_number(*, year: int | None = None) -> str:
    """`R-<year>-<6+ digits>` from its own sequence (a gap after a rollback
    is fine: returns are not a fiscal series)."""
    year = year or timezone.localdate().year
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [RETURN_NUMBER_SEQUENCE])
        (value,) = cursor.fetchone()
    return f"R-{year}-{value:06d}"


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")  # waiting for customer service
    APPROVED = "approved", _("Approved")  # instructions and label sent; goods on the way
    REFUSED = "refused", _("Refused")
    IN_TRANSIT = "in_transit", _("Returned by the carrier")  # returned to sender
    RECEIVED = "received", _("Received")  # scanned in by the warehouse
    INSPECTED = "inspected", _("Inspected")  # every unit restocked, scrapped or sent back
    CLOSED = "closed", _("Closed")  # settled


class ReturnChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    STORE = "store", _("Store")
    WEB = "web", _("Customer (signed link)")
    CARRIER = "carrier", _("Carrier (returned to sender)")


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", _("Arrived damaged")
    DEFECTIVE = "defective", _("Defective")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
    RETURNED_TO_SENDER = "returned_to_sender", _("Returned to sender by the carrier")
    OTHER = "other", _("Other")


class Settlement(models.TextChoices):
    REFUND = "refund", _("Refund (credit note)")
    STORE_CREDIT = "store_credit", _("Store credit")
    EXCHANGE = "exchange", _("Exchange (replacement order)")
    NONE = "none", _("Nothing to settle")


class Return(FSMModelMixin, models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns",
                              verbose_name=_("order"))
    status = FSMField(_("status"), max_length=12, choices=ReturnStatus.choices,
                      default=ReturnStatus.REQUESTED, protected=True)
    channel = models.CharField(_("channel"), max_length=10, choices=ReturnChannel.choices)
    note = models.TextField(_("note"), blank=True)
    # Set when staff opened the return after the return window closed.
    override_reason = models.TextField(_("reason for opening after the return window"),
                                       blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    # Where the goods come back to (the warehouse they left from).
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("warehouse"))
    # A return the carrier brings back: the parcel's tracking number.
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    settlement = models.CharField(_("settlement"), max_length=12, choices=Settlement.choices,
                                  blank=True)
    # Credited or refunded, gross, in the order's currency.
    settled_amount = models.DecimalField(_("settled amount"), max_digits=MONEY_DIGITS,
                                         decimal_places=MONEY_PLACES, null=True, blank=True)
    credit_note_number = models.CharField(_("credit note"), max_length=32, blank=True)
    exchange_order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="+",
                                       verbose_name=_("replacement order"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("opened by"))
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    decided_at = models.DateTimeField(_("approved or refused at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    inspected_at = models.DateTimeField(_("inspected at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"],
                                name="orders_return_list_idx"),
                   # The search box finds a return by a fragment of its number.
                   GinIndex(OpClass(Upper("number"), name="gin_trgm_ops"),
                            name="orders_return_number_trgm")]
        permissions = [
            ("decide_return", _("Can approve or refuse returns")),
            ("receive_return", _("Can receive and inspect returned goods")),
            ("settle_return", _("Can settle returns (refund, store credit, exchange)")),
        ]

    def __str__(self) -> str:
        return self.number

    # --- predicates other apps ask ---------------------------------------------
    @property
    def is_open(self) -> bool:
        """Not refused or closed: its units count as being returned."""
        return self.status not in (ReturnStatus.REFUSED, ReturnStatus.CLOSED)

    @property
    def awaits_goods(self) -> bool:
        """The warehouse may scan it in."""
        return self.status in (ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT)

    @property
    def awaits_inspection(self) -> bool:
        return self.status == ReturnStatus.RECEIVED

    @property
    def awaits_settlement(self) -> bool:
        return self.status == ReturnStatus.INSPECTED

    @property
    def awaits_decision(self) -> bool:
        return self.status == ReturnStatus.REQUESTED

    # --- transitions (fields only; the services save and record) ---------------
    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.APPROVED)
    def approve(self) -> None:
        self.decided_at = timezone.now()

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.REFUSED)
    def refuse(self, *, refusal: str) -> None:
        self.refusal_reason = refusal
        self.decided_at = timezone.now()

    @transition(field=status, source=[ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT],
                target=ReturnStatus.RECEIVED)
    def receive(self) -> None:
        self.received_at = timezone.now()

    @transition(field=status, source=ReturnStatus.RECEIVED, target=ReturnStatus.INSPECTED)
    def finish_inspection(self) -> None:
        self.inspected_at = timezone.now()

    @transition(field=status, source=ReturnStatus.INSPECTED, target=ReturnStatus.CLOSED)
    def settle(self, *, settlement: str, amount: Decimal | None = None,
               credit_note_number: str = "", exchange_order_id: int | None = None) -> None:
        self.settlement = settlement
        self.settled_amount = amount
        self.credit_note_number = credit_note_number
        self.exchange_order_id = exchange_order_id
        self.closed_at = timezone.now()


class ReturnLine(models.Model):
    """Units of one order line coming back, and what inspection made of them:
    restocked + scrapped + to_supplier = received once inspected."""

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines",
                            verbose_name=_("return"), db_column="return_id")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT,
                                   related_name="return_lines", verbose_name=_("order line"))
    quantity = models.PositiveIntegerField(_("quantity"))
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices)
    received_quantity = models.PositiveIntegerField(_("received"), default=0)
    restocked_quantity = models.PositiveIntegerField(_("restocked"), default=0)
    scrapped_quantity = models.PositiveIntegerField(_("scrapped"), default=0)
    to_supplier_quantity = models.PositiveIntegerField(_("back to supplier"), default=0)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["ret_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="orders_returnline_quantity_positive"),
            models.CheckConstraint(condition=models.Q(received_quantity__lte=models.F("quantity")),
                                   name="orders_returnline_received_le_quantity"),
            models.CheckConstraint(
                condition=models.Q(restocked_quantity__lte=models.F("received_quantity")
                                   - models.F("scrapped_quantity")
                                   - models.F("to_supplier_quantity")),
                name="orders_returnline_inspected_le_received"),
            models.UniqueConstraint(fields=["ret", "order_line"],
                                    name="orders_returnline_one_per_order_line"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line_id}"

    @property
    def inspected_quantity(self) -> int:
        return self.restocked_quantity + self.scrapped_quantity + self.to_supplier_quantity

    @property
    def uninspected_quantity(self) -> int:
        return self.received_quantity - self.inspected_quantity
