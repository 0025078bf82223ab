"""Suppliers and purchasing: who sells us each product, at what cost and
lead time, and the purchase orders sent to them.

Loaded through `inventory.models` (the app's model module); it names the
catalogue models by string so it imports nothing of the app. Writes go
through `inventory.purchasing` (services); the purchase order changes status
only through its transition methods below (a protected state machine), which
the services call, then save, then record a `PurchaseOrderEvent`, in one
transaction.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

# The sequence behind purchase order numbers (created by the migration).
PURCHASE_ORDER_NUMBER_SEQUENCE = "inventory_purchase_order_number_seq"


class Supplier(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # Purchase orders are e-mailed here (PDF attached).
    email = models.EmailField(_("e-mail"))
    contact_name = models.CharField(_("contact"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    # Language of the purchase order PDF and e-mail.
    language = models.CharField(_("language"), max_length=10, default="en",
                                choices=settings.LANGUAGES)
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SupplierProduct(models.Model):
    """One product as one supplier sells it. A product's preferred supplier
    is the one the buying proposal orders from."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="products",
                                 verbose_name=_("supplier"))
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE,
                                related_name="supplier_products", verbose_name=_("product"))
    supplier_sku = models.CharField(_("supplier SKU"), max_length=64)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2,
                                    validators=[MinValueValidator(Decimal("0"))])
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)
    minimum_order_quantity = models.PositiveIntegerField(
        _("minimum order quantity"), default=1, validators=[MinValueValidator(1)])
    # Sold in packs of this many units: ordered quantities are multiples of it.
    pack_size = models.PositiveIntegerField(_("pack size"), default=1,
                                            validators=[MinValueValidator(1)])
    is_preferred = models.BooleanField(_("preferred supplier"), default=False)

    class Meta:
        verbose_name = _("supplier product")
        verbose_name_plural = _("supplier products")
        ordering = ["product", "-is_preferred", "supplier"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"],
                                    name="inventory_supplierproduct_uniq"),
            models.UniqueConstraint(fields=["product"], condition=models.Q(is_preferred=True),
                                    name="inventory_supplierproduct_one_preferred"),
            models.CheckConstraint(condition=models.Q(unit_cost__gte=0),
                                   name="inventory_supplierproduct_cost_non_negative"),
            models.CheckConstraint(condition=models.Q(minimum_order_quantity__gte=1),
                                   name="inventory_supplierproduct_moq_positive"),
            models.CheckConstraint(condition=models.Q(pack_size__gte=1),
                                   name="inventory_supplierproduct_pack_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code}: {self.supplier_sku}"

    def orderable(self, wanted: int) -> int:
        """The smallest quantity of at least `wanted` (>0) the supplier sells:
        the minimum order, rounded up to whole packs."""
        quantity = max(wanted, self.minimum_order_quantity)
        return -(-quantity // self.pack_size) * self.pack_size


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # being prepared; not yet with the supplier
    SENT = "sent", _("Sent")  # e-mailed to the supplier; goods expected
    PARTLY_RECEIVED = "partly_received", _("Partly received")  # some goods arrived
    RECEIVED = "received", _("Received")  # receiving is finished (short or in full)
    CANCELLED = "cancelled", _("Cancelled")  # no (more) goods expected


# States in which goods are still expected from the supplier.
OPEN_PURCHASE = [PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.SENT,
                 PurchaseOrderStatus.PARTLY_RECEIVED]
RECEIVABLE = [PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTLY_RECEIVED]


class PurchaseOrder(FSMModelMixin, models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT,
                                 related_name="purchase_orders", verbose_name=_("supplier"))
    # Where the goods are delivered and received.
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("warehouse"))
    status = FSMField(_("status"), max_length=20, choices=PurchaseOrderStatus.choices,
                      default=PurchaseOrderStatus.DRAFT, protected=True)
    currency = models.CharField(_("currency"), max_length=3)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The PDF as e-mailed to the supplier (storage path).
    pdf_path = models.CharField(_("PDF"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("send_purchaseorder", _("Can send purchase orders to suppliers")),
            ("receive_purchaseorder", _("Can receive goods against purchase orders")),
        ]
        indexes = [models.Index(fields=["status", "-created_at"],
                                name="inventory_po_status_idx")]

    def __str__(self) -> str:
        return self.number

    @transition(field=status, source=PurchaseOrderStatus.DRAFT,
                target=PurchaseOrderStatus.SENT)
    def send(self) -> None:
        self.sent_at = timezone.now()

    @transition(field=status, source=RECEIVABLE, target=PurchaseOrderStatus.PARTLY_RECEIVED)
    def receive_part(self) -> None:
        """Goods arrived; more are expected."""

    @transition(field=status, source=RECEIVABLE, target=PurchaseOrderStatus.RECEIVED)
    def finish_receiving(self) -> None:
        """Everything arrived, or the buyer closed it short."""
        self.closed_at = timezone.now()

    @transition(field=status, source=[PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.SENT],
                target=PurchaseOrderStatus.CANCELLED)
    def cancel(self) -> None:
        self.closed_at = timezone.now()

    @property
    def is_draft(self) -> bool:
        return self.status == PurchaseOrderStatus.DRAFT

    @property
    def is_receivable(self) -> bool:
        return self.status in RECEIVABLE

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PURCHASE

    @staticmethod
    def open_q(prefix: str = "") -> models.Q:
        """Goods still expected (draft, sent, partly received)."""
        return models.Q(**{f"{prefix}status__in": OPEN_PURCHASE})


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE,
                                       related_name="lines", verbose_name=_("purchase order"))
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("product"))
    # Snapshots when ordered: what the supplier's documents say.
    sku = models.CharField(_("SKU"), max_length=64)
    supplier_sku = models.CharField(_("supplier SKU"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=200)
    quantity_ordered = models.PositiveIntegerField(_("ordered"))
    # May end above (over receipt) or below (closed short) what was ordered.
    quantity_received = models.PositiveIntegerField(_("received"), default=0)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2)
    expected_date = models.DateField(_("expected on"))

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["purchase_order_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "position"],
                                    name="inventory_pol_position_uniq"),
            models.UniqueConstraint(fields=["purchase_order", "product"],
                                    name="inventory_pol_product_uniq"),
            models.CheckConstraint(condition=models.Q(quantity_ordered__gt=0),
                                   name="inventory_pol_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_cost__gte=0),
                                   name="inventory_pol_cost_non_negative"),
        ]
        indexes = [models.Index(fields=["product", "expected_date"],
                                name="inventory_pol_product_idx")]

    def __str__(self) -> str:
        return f"{self.quantity_ordered} x {self.sku}"

    @property
    def outstanding(self) -> int:
        """Units still expected (0 once received in full or beyond)."""
        return max(self.quantity_ordered - self.quantity_received, 0)

    @property
    def over_received(self) -> int:
        return max(self.quantity_received - self.quantity_ordered, 0)

    @property
    def line_cost(self) -> Decimal:
        return self.unit_cost * self.quantity_ordered


class PurchaseReceipt(models.Model):
    """One arrival of units against a purchase order line (a scan or a typed
    quantity), with the units beyond what was still expected."""

    line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT,
                             related_name="receipts", verbose_name=_("line"))
    quantity = models.PositiveIntegerField(_("quantity"))
    # Units of this receipt beyond the line's outstanding quantity.
    over_quantity = models.PositiveIntegerField(_("over receipt"), default=0)
    # Units given straight to waiting backorders in the same transaction.
    allocated_quantity = models.PositiveIntegerField(_("allocated to backorders"), default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("received by"))
    created_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("purchase receipt")
        verbose_name_plural = _("purchase receipts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="inventory_purchasereceipt_quantity_positive"),
            models.CheckConstraint(condition=models.Q(over_quantity__lte=models.F("quantity")),
                                   name="inventory_purchasereceipt_over_within"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.line.sku}"


class PurchaseEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS_CHANGED = "status_changed", _("Status changed")
    RECEIVED = "received", _("Goods received")
    RESCHEDULED = "rescheduled", _("Expected date changed")
    EMAIL = "email", _("E-mailed to the supplier")


class PurchaseOrderEvent(models.Model):
    """One row of a purchase order's history, written in the transaction of
    the change by `inventory.purchasing.events`."""

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE,
                                       related_name="events", verbose_name=_("purchase order"))
    kind = models.CharField(_("kind"), max_length=20, choices=PurchaseEventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("actor"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("purchase order event")
        verbose_name_plural = _("purchase order events")
        ordering = ["purchase_order_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.purchase_order_id}: {self.kind}"

    @property
    def summary(self) -> str:
        """What happened, in the reader's language, from the payload."""
        data = self.data or {}
        if self.kind == PurchaseEventKind.RECEIVED:
            text = gettext("%(quantity)d x %(sku)s received.") % data
            if data.get("over"):
                text += " " + gettext("%(over)d more than ordered.") % data
            return text
        if self.kind == PurchaseEventKind.RESCHEDULED:
            return gettext("%(sku)s now expected on %(to)s (was %(from)s).") % data
        if self.kind == PurchaseEventKind.EMAIL:
            return gettext("PDF e-mailed to %(to)s.") % data
        if self.kind == PurchaseEventKind.STATUS_CHANGED:
            short = [gettext("%(sku)s: %(received)d of %(ordered)d") % line
                     for line in data.get("lines", [])]
            parts = [self.reason] if self.reason else []
            if short:
                parts.append(gettext("Received against ordered: %(lines)s.")
                             % {"lines": "; ".join(short)})
            return " ".join(parts)
        return ""

    @property
    def to_label(self) -> str:
        try:
            return str(PurchaseOrderStatus(self.to_status).label)
        except ValueError:
            return self.to_status

    @property
    def actor_label(self) -> str:
        if self.actor is None:
            return str(_("System"))
        return self.actor.get_full_name() or self.actor.get_username()


def expected_date_for(lead_time_days: int, *, today: date | None = None) -> date:
    return (today or timezone.localdate()) + timedelta(days=lead_time_days)
