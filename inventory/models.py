"""Inventory: the catalogue, warehouses, stock levels, reservations and the
stock ledger.

`inventory` depends only on `oms`. Other apps read these models and write
through `inventory.api` (reservations) or `inventory.services` (receipts and
adjustments, back office only). Every change of `StockLevel.on_hand` is a
`StockMovement` row, so a stock level always equals the sum of its ledger.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from oms.models import validate_currency


class TaxCategory(models.TextChoices):
    """What the goods are for VAT; each member state sets a rate per category
    (`VatRate`). Where a state has fewer rates, the table repeats the nearest."""

    STANDARD = "standard", _("Standard")
    INTERMEDIATE = "intermediate", _("Intermediate (second reduced)")  # FR 10 %, IT 10 %
    REDUCED = "reduced", _("Reduced")  # food, books: FR 5.5 %, DE 7 %
    SUPER_REDUCED = "super_reduced", _("Super-reduced")  # FR 2.1 %, ES 4 %
    ZERO = "zero", _("Zero-rated")
    EXEMPT = "exempt", _("Exempt")


class VatRate(models.Model):
    """The VAT rate of one member state for one tax category, maintained by
    the admin (seeded with the rates in force for the 27 member states).
    Orders copy the rate they apply, so a change here never alters them."""

    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2."))
    category = models.CharField(_("tax category"), max_length=20, choices=TaxCategory.choices)
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2,
                               validators=[MinValueValidator(Decimal("0"))])
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("VAT rate")
        verbose_name_plural = _("VAT rates")
        ordering = ["country", "category"]
        constraints = [
            models.UniqueConstraint(fields=["country", "category"],
                                    name="inventory_vatrate_country_category_uniq"),
            models.CheckConstraint(condition=models.Q(rate__gte=0) & models.Q(rate__lt=100),
                                   name="inventory_vatrate_rate_range"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.category}: {self.rate} %"


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2,
                                     validators=[MinValueValidator(Decimal("0"))])
    # Percent, e.g. 20.00 for 20 %: the rate in the seller's country
    # (settings.SELLER_COUNTRY), applied to domestic sales and to sales taxed
    # where the seller is. Other member states' rates come from `VatRate` by
    # `tax_category`.
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2,
                                   default=Decimal("20.00"),
                                   validators=[MinValueValidator(Decimal("0"))])
    tax_category = models.CharField(_("tax category"), max_length=20,
                                    choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=10, decimal_places=3,
                                    default=Decimal("0"))
    length_cm = models.DecimalField(_("length (cm)"), max_digits=8, decimal_places=1,
                                    default=Decimal("0"))
    width_cm = models.DecimalField(_("width (cm)"), max_digits=8, decimal_places=1,
                                   default=Decimal("0"))
    height_cm = models.DecimalField(_("height (cm)"), max_digits=8, decimal_places=1,
                                    default=Decimal("0"))
    is_fragile = models.BooleanField(_("fragile"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # Before this date the product is sold as a pre-order: lines wait and are
    # allocated when stock has arrived and the date is reached.
    available_from = models.DateField(
        _("available from"), null=True, blank=True,
        help_text=_("Release date: orders before it are taken as pre-orders."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=models.Q(unit_price__gte=0),
                                   name="product_unit_price_non_negative"),
            models.CheckConstraint(condition=models.Q(tax_rate__gte=0),
                                   name="product_tax_rate_non_negative"),
        ]
        # Trigram indexes on UPPER(name) and UPPER(sku) for search as you type
        # are created in migration 0001 with raw SQL.

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def is_preorder_on(self, day) -> bool:
        """Whether an order placed on `day` waits for the release date."""
        return self.available_from is not None and day < self.available_from


class ProductCost(models.Model):
    """What one unit of a product costs us in one currency of purchase (the
    supplier's price plus what it takes to process and deliver it), for the
    margin. Order lines copy it at placement (`OrderLine.unit_cost`)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="costs",
                                verbose_name=_("product"))
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2,
                               validators=[MinValueValidator(Decimal("0"))])
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product cost")
        verbose_name_plural = _("product costs")
        ordering = ["product_id", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["product", "currency"],
                                    name="inventory_productcost_one_per_currency",
                                    violation_error_message=_(
                                        "This product already has a cost in that currency.")),
            models.CheckConstraint(condition=models.Q(cost__gte=0),
                                   name="inventory_productcost_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.cost} {self.currency}"


class Warehouse(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True,
                               help_text=_("ISO 3166-1 alpha-2 code, e.g. FR."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BinLocation(models.Model):
    """Where a product sits inside a warehouse (aisle-shelf-bin), for picking."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="bins",
                                verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="bins",
                                  verbose_name=_("warehouse"))
    code = models.CharField(_("bin code"), max_length=40)

    class Meta:
        verbose_name = _("bin location")
        verbose_name_plural = _("bin locations")
        ordering = ["warehouse", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"],
                                    name="binlocation_one_per_product_warehouse"),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code}"


class StockLevel(models.Model):
    """On-hand and reserved quantity of one product in one warehouse.

    Change it only through the services and `inventory.api`: they lock the
    row, write the ledger and keep the CHECK constraints below true.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels",
                                verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT,
                                  related_name="stock_levels", verbose_name=_("warehouse"))
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    # At or below this available quantity the product shows as low stock.
    reorder_level = models.PositiveIntegerField(_("reorder level"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Set by inventory.selectors.product_with_stock, not stored.
    bin_code: str

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["product", "warehouse"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"],
                                    name="stocklevel_unique_product_warehouse"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0),
                                   name="stocklevel_reserved_non_negative"),
            models.CheckConstraint(condition=models.Q(reserved__lte=models.F("on_hand")),
                                   name="stocklevel_reserved_within_on_hand"),
        ]
        indexes = [models.Index(fields=["warehouse", "product"],
                                name="stocklevel_warehouse_idx")]
        permissions = [
            ("receive_stock", _("Can receive stock into a warehouse")),
            ("adjust_stock", _("Can adjust stock (count corrections, damage)")),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand}/{self.reserved}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Reservation(models.Model):
    """Stock set aside for one order line in one warehouse.

    A hold lapses at `expires_at` (none: it waits for a decision on the
    order); a firm reservation (payment approved) has no expiry.
    `order_id`/`order_line_id` are plain ids: inventory never depends on
    orders.
    """

    class Kind(models.TextChoices):
        HOLD = "hold", _("Hold")  # waiting for payment approval; lapses at expires_at, if set
        FIRM = "firm", _("Firm")  # payment approved; kept until shipped or released

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")  # counts in StockLevel.reserved
        RELEASED = "released", _("Released")  # given back (cancel, reject)
        CONSUMED = "consumed", _("Consumed")  # shipped: left on_hand with the parcel
        EXPIRED = "expired", _("Expired")  # hold lapsed before approval

    order_id = models.BigIntegerField(_("order id"), db_index=True)
    order_line_id = models.BigIntegerField(_("order line id"), db_index=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations",
                                verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT,
                                  related_name="reservations", verbose_name=_("warehouse"))
    quantity = models.PositiveIntegerField(_("quantity"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.HOLD)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.ACTIVE)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    status_reason = models.CharField(_("status reason"), max_length=200, blank=True)
    # Who last changed the reservation (null: the system, e.g. the expiry sweep).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("last changed by"))

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="reservation_quantity_positive"),
            # A hold with no expiry waits for a person's decision on its order.
            models.CheckConstraint(
                condition=models.Q(kind="firm", expires_at__isnull=True)
                | models.Q(kind="hold"),
                name="reservation_firm_has_no_expiry"),
        ]
        indexes = [
            # The expiry sweep reads only lapsing holds.
            models.Index(fields=["expires_at"], name="reservation_active_hold_idx",
                         condition=models.Q(status="active", kind="hold")),
            models.Index(fields=["product", "warehouse"], name="reservation_active_stock_idx",
                         condition=models.Q(status="active")),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id} line {self.order_line_id}: {self.quantity} ({self.kind})"


class StockMovement(models.Model):
    """The stock ledger: one row per change of on_hand. Never updated."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")  # goods in from a supplier
        ADJUSTMENT = "adjustment", _("Adjustment")  # count correction, damage, loss
        SHIPMENT = "shipment", _("Shipment")  # goods out to a customer
        RETURN = "return", _("Return")  # goods back from a customer
        # A transfer between warehouses writes two rows, one of each kind, with
        # the transfer's reference: out (negative) of one, in (positive) to the other.
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        COUNT = "count", _("Count")  # a confirmed cycle count's variance

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements",
                                verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements",
                                  verbose_name=_("warehouse"))
    # Signed change of on_hand: positive in, negative out.
    quantity = models.IntegerField(_("quantity"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("actor"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(quantity=0),
                                   name="stockmovement_quantity_non_zero"),
        ]
        indexes = [
            models.Index(fields=["product", "warehouse", "-created_at"],
                         name="stockmovement_stock_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.product_id}@{self.warehouse_id}"


class StockTransfer(models.Model):
    """Units moved from one warehouse to another, in one step.

    Only available units move (never those reserved for orders). The move
    is the pair of ledger rows `transfer_out`/`transfer_in` that carry the
    transfer's `reference`.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="transfers",
                                verbose_name=_("product"))
    from_warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT,
                                       related_name="transfers_out",
                                       verbose_name=_("from warehouse"))
    to_warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT,
                                     related_name="transfers_in",
                                     verbose_name=_("to warehouse"))
    quantity = models.PositiveIntegerField(_("quantity"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("moved by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock transfer")
        verbose_name_plural = _("stock transfers")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="stocktransfer_quantity_positive"),
            models.CheckConstraint(condition=~models.Q(from_warehouse=models.F("to_warehouse")),
                                   name="stocktransfer_two_warehouses"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"TR-{self.pk:06d}"


class StockCount(FSMModelMixin, models.Model):
    """A cycle count of (part of) one warehouse: staff enter what they count,
    the page shows the variance against on_hand, and confirming writes one
    `count` ledger row per variance."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # counting: lines can be entered
        CONFIRMED = "confirmed", _("Confirmed")  # variances written to the ledger
        CANCELLED = "cancelled", _("Cancelled")  # abandoned; wrote nothing

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="counts",
                                  verbose_name=_("warehouse"))
    status = FSMField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN,
                      protected=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("started by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("closed by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"CC-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @transition(field=status, source=Status.OPEN, target=Status.CONFIRMED)
    def confirm(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=status, source=Status.OPEN, target=Status.CANCELLED)
    def cancel(self) -> None:
        self.closed_at = timezone.now()


class StockCountLine(models.Model):
    """What was counted of one product. `on_hand_before` and `variance` are
    written when the count is confirmed, from the locked stock level."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines",
                              verbose_name=_("count"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    counted = models.PositiveIntegerField(_("counted"))
    on_hand_before = models.IntegerField(_("on hand before"), null=True, blank=True)
    variance = models.IntegerField(_("variance"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Set by inventory.selectors.count_sheet, not stored.
    level_reserved: int
    shown_on_hand: int
    shown_variance: int
    below_reserved: bool

    class Meta:
        verbose_name = _("stock count line")
        verbose_name_plural = _("stock count lines")
        ordering = ["count", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["count", "product"],
                                    name="stockcountline_one_per_product"),
        ]

    def __str__(self) -> str:
        return f"{self.count_id}: {self.product_id} = {self.counted}"


# Suppliers and purchasing live in their own module; importing them here
# registers them with the app.
from inventory.purchase_models import (  # noqa: E402
    PurchaseEventKind,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    PurchaseReceipt,
    Supplier,
    SupplierProduct,
)

__all__ = [
    "BinLocation", "Product", "PurchaseEventKind", "PurchaseOrder", "PurchaseOrderEvent",
    "PurchaseOrderLine", "PurchaseOrderStatus", "PurchaseReceipt", "Reservation",
    "StockCount", "StockCountLine", "StockLevel", "StockMovement", "StockTransfer", "Supplier",
    "SupplierProduct", "Warehouse",
]
