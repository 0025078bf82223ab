"""Fulfillment: carriers, pick lists, packing and shipments, deliveries.

The warehouse's half of order-to-cash. It reads `inventory.models` and
`orders.models`, writes stock only through `inventory.api` and moves orders
only through `orders.services` (start_picking, mark_packed, mark_shipped,
record_short_pick). Writes live in `fulfillment.services`, reads in
`fulfillment.selectors`. Pick lists and shipments change status only
through their transition methods below (protected state machines), which
the services call, then save, then record the event, in one transaction.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition


class Carrier(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # e.g. "https://track.example/?n={tracking_number}"; blank when the carrier has none.
    tracking_url_template = models.CharField(_("tracking URL template"), max_length=300,
                                             blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def tracking_url(self, tracking_number: str) -> str:
        if not self.tracking_url_template or not tracking_number:
            return ""
        return self.tracking_url_template.replace("{tracking_number}",
                                                 quote(tracking_number, safe=""))


class CarrierService(models.Model):
    """One product of a carrier (standard, express, pallet freight) with its
    list price and transit time, so the customer or the packer can choose by
    speed and cost."""

    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="services",
                                verbose_name=_("carrier"))
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2,
                                validators=[MinValueValidator(Decimal("0"))])
    transit_days = models.PositiveSmallIntegerField(_("transit days"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier service")
        verbose_name_plural = _("carrier services")
        ordering = ["carrier__name", "transit_days", "price"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"],
                                    name="fulfillment_carrierservice_code_uniq"),
            models.CheckConstraint(condition=models.Q(price__gte=0),
                                   name="fulfillment_carrierservice_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier.name} {self.name}"


class PackageType(models.TextChoices):
    BOX = "box", _("Box")
    CRATE = "crate", _("Crate")
    PALLET = "pallet", _("Pallet")


class PickList(FSMModelMixin, models.Model):
    """A batch of order lines to collect in one warehouse in one walk."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # being picked
        DONE = "done", _("Done")  # completed; short lines were backordered
        CANCELLED = "cancelled", _("Cancelled")  # every line's order was cancelled

    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("warehouse"))
    status = FSMField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN,
                      protected=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pick list")
        verbose_name_plural = _("pick lists")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["warehouse", "status", "-created_at"],
                                name="fulfillment_picklist_open_idx")]

    def __str__(self) -> str:
        return f"PL-{self.pk:06d}" if self.pk else "PL-new"

    @property
    def number(self) -> str:
        return str(self)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @transition(field=status, source=Status.OPEN, target=Status.DONE)
    def complete(self) -> None:
        self.completed_at = timezone.now()

    @transition(field=status, source=Status.OPEN, target=Status.CANCELLED)
    def cancel(self) -> None:
        self.completed_at = timezone.now()


class PickListLine(models.Model):
    """One order line's part in this warehouse. The screen and the PDF group
    the lines by product and sort them by bin so the walk is short."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PICKED = "picked", _("Picked")
        SHORT = "short", _("Short")  # fewer found; the rest is backordered on the order
        CANCELLED = "cancelled", _("Cancelled")

    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="lines",
                                  verbose_name=_("pick list"))
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("order"))
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("order line"))
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("product"))
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    # Snapshot when the list was made: a later re-shelving does not reorder a walk.
    bin_code = models.CharField(_("bin"), max_length=40, blank=True)
    quantity = models.PositiveIntegerField(_("quantity to pick"))
    quantity_picked = models.PositiveIntegerField(_("quantity picked"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.OPEN)
    # The parcel its picked units went into (None: not packed yet); a line
    # shipped in parts is picked and packed once per part.
    shipment = models.ForeignKey("Shipment", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("shipment"))

    class Meta:
        verbose_name = _("pick list line")
        verbose_name_plural = _("pick list lines")
        ordering = ["pick_list_id", "bin_code", "sku", "order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="fulfillment_picklistline_quantity_positive"),
            models.CheckConstraint(condition=models.Q(quantity_picked__lte=models.F("quantity")),
                                   name="fulfillment_picklistline_not_overpicked"),
        ]
        indexes = [models.Index(fields=["order", "status"], name="fulfillment_pll_order_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku} ({self.bin_code or '-'})"

    @property
    def remaining(self) -> int:
        return self.quantity - self.quantity_picked


class ExceptionKind(models.TextChoices):
    """What went wrong, as a carrier's "exception" status update says."""

    DELAY = "delay", _("Delay")
    FAILED_DELIVERY = "failed_delivery", _("Delivery failed")
    RETURNED_TO_SENDER = "returned_to_sender", _("Being returned to the sender")
    OTHER = "other", _("Other")


class ShipmentQuerySet(models.QuerySet):
    def live(self) -> ShipmentQuerySet:
        """Shipments that count: packed, shipped or delivered (not cancelled)."""
        return self.exclude(status=Shipment.Status.CANCELLED)


class Shipment(FSMModelMixin, models.Model):
    """One parcel (or pallet) leaving one warehouse for one order. An order
    whose stock sits in two warehouses ships as two shipments."""

    class Status(models.TextChoices):
        PACKED = "packed", _("Packed")  # waiting for the carrier
        SHIPPED = "shipped", _("Shipped")  # handed to the carrier; stock consumed
        DELIVERED = "delivered", _("Delivered")  # confirmed by hand or by the carrier
        CANCELLED = "cancelled", _("Cancelled")  # its order was cancelled before it left

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT,
                              related_name="shipments", verbose_name=_("order"))
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("warehouse"))
    status = FSMField(_("status"), max_length=10, choices=Status.choices,
                      default=Status.PACKED, protected=True)
    package_type = models.CharField(_("package"), max_length=10, choices=PackageType.choices)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=10, decimal_places=3)
    carrier_service = models.ForeignKey(CarrierService, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="shipments",
                                        verbose_name=_("carrier service"))
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    shipping_cost = models.DecimalField(_("shipping cost"), max_digits=10, decimal_places=2,
                                        null=True, blank=True)
    packed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("packed by"))
    packed_at = models.DateTimeField(_("packed at"), default=timezone.now)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-packed_at", "-id"]
        constraints = [
            # Carriers' status updates find the shipment by its tracking number.
            models.UniqueConstraint(fields=["tracking_number"],
                                    condition=~models.Q(tracking_number=""),
                                    name="fulfillment_shipment_tracking_uniq"),
            # One parcel per order and warehouse waiting for the carrier:
            # packing twice is refused (a later part is packed after it left).
            models.UniqueConstraint(fields=["order", "warehouse"],
                                    condition=models.Q(status="packed"),
                                    name="fulfillment_shipment_one_packed_per_warehouse"),
            models.CheckConstraint(condition=models.Q(weight_kg__gt=0),
                                   name="fulfillment_shipment_weight_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=["packed", "cancelled"])
                | (models.Q(shipped_at__isnull=False) & ~models.Q(tracking_number="")),
                name="fulfillment_shipment_shipped_has_tracking"),
        ]
        indexes = [models.Index(fields=["status", "-packed_at", "-id"],
                                name="fulfillment_shipment_list_idx")]

    def __str__(self) -> str:
        return f"SH-{self.pk:06d}" if self.pk else "SH-new"

    @property
    def number(self) -> str:
        return str(self)

    @property
    def tracking_url(self) -> str:
        if self.carrier_service is None:
            return ""
        return self.carrier_service.carrier.tracking_url(self.tracking_number)

    @property
    def is_packed(self) -> bool:
        """Packed and waiting for the carrier."""
        return self.status == self.Status.PACKED

    @property
    def is_shipped(self) -> bool:
        """With the carrier, not confirmed delivered yet."""
        return self.status == self.Status.SHIPPED

    @property
    def is_delivered(self) -> bool:
        return self.status == self.Status.DELIVERED

    @transition(field=status, source=Status.PACKED, target=Status.SHIPPED)
    def ship(self, *, carrier_service: CarrierService, tracking_number: str,
             shipping_cost: Decimal) -> None:
        self.carrier_service = carrier_service
        self.tracking_number = tracking_number
        self.shipping_cost = shipping_cost
        self.shipped_at = timezone.now()

    @transition(field=status, source=Status.SHIPPED, target=Status.DELIVERED)
    def deliver(self, *, at) -> None:
        self.delivered_at = at

    @transition(field=status, source=Status.PACKED, target=Status.CANCELLED)
    def cancel(self) -> None:
        self.cancelled_at = timezone.now()


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines",
                                 verbose_name=_("shipment"))
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("order line"))
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("product"))
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    is_fragile = models.BooleanField(_("fragile"), default=False)

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        ordering = ["shipment_id", "sku", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="fulfillment_shipmentline_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class ShipmentEvent(models.Model):
    """A status update for a shipment: the carrier's (through the API) or a
    person's (delivery confirmed by hand). The shipment's history."""

    class Source(models.TextChoices):
        CARRIER = "carrier", _("Carrier")
        STAFF = "staff", _("Staff")

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events",
                                 verbose_name=_("shipment"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    status = models.CharField(_("status"), max_length=30)
    # What went wrong, for the status "exception" (blank otherwise).
    exception_kind = models.CharField(_("exception"), max_length=20, blank=True,
                                      choices=ExceptionKind.choices)
    description = models.CharField(_("description"), max_length=500, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("actor"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("shipment event")
        verbose_name_plural = _("shipment events")
        ordering = ["shipment_id", "occurred_at", "id"]
        # The work queue reads only the trouble reports (exception, returned),
        # a sliver of all carrier scans.
        indexes = [models.Index(fields=["shipment", "-occurred_at", "-id"],
                                condition=models.Q(status__in=["exception", "returned"]),
                                name="fulfillment_sevent_trouble_idx")]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.status}"
