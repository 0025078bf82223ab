"""Typed inputs of the fulfillment write services.

Each input checks its rules once, when it is built, and refuses with every
field error at once (`ApplicationError.field_errors`, keyed by the names of
the warehouse forms). `parse` builds one from raw form values; the services
take the built input and trust it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, get_args

from django.utils.translation import gettext as _

from fulfillment.models import CarrierService, PackageType
from oms.lib.errors import ApplicationError
from oms.lib.money import quantize_money

MAX_WEIGHT_KG = Decimal("5000")
MAX_TRACKING = 64
MAX_NOTE = 500
# Carrier statuses the API accepts; "delivered" also confirms the delivery.
CarrierStatus = Literal["in_transit", "out_for_delivery", "delivered", "exception", "returned"]
CARRIER_STATUSES: tuple[str, ...] = get_args(CarrierStatus)
# What went wrong with an "exception" status (blank: "other").
CarrierExceptionKind = Literal["delay", "failed_delivery", "returned_to_sender", "other"]
EXCEPTION_KINDS: tuple[str, ...] = get_args(CarrierExceptionKind)


def _refuse_if(message: str, errors: dict[str, str | None]) -> None:
    """Raise `message` with the field errors that are set (None: field is fine)."""
    field_errors = {name: [error] for name, error in errors.items() if error}
    if field_errors:
        raise ApplicationError(message, field_errors=field_errors)


def _decimal(value, rounded: Callable[[Decimal], Decimal]) -> Decimal | None:
    """A number typed with a comma or a point, rounded; None when it is not one."""
    try:
        number = rounded(Decimal(str(value).strip().replace(",", ".")))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _grams(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.001"))


@dataclass(frozen=True)
class PickScan:
    """One scan (or typed SKU) on a pick list and how many units were taken."""

    sku: str
    quantity: int

    def __post_init__(self) -> None:
        quantity_ok = (isinstance(self.quantity, int) and not isinstance(self.quantity, bool)
                       and self.quantity > 0)
        _refuse_if(_("Please correct the pick."), {
            "sku": None if self.sku else _("Scan or type a SKU."),
            "quantity": None if quantity_ok else _("Enter a positive whole number.")})

    @classmethod
    def parse(cls, *, sku: str, quantity: str) -> PickScan:
        """Form values; an empty quantity means one unit."""
        quantity = (quantity or "").strip() or "1"
        return cls(sku=(sku or "").strip(), quantity=int(quantity) if quantity.isdigit() else -1)


@dataclass(frozen=True)
class Unpick:
    """Picked units of one pick list line put back on the shelf."""

    quantity: int
    reason: str = ""

    def __post_init__(self) -> None:
        quantity_ok = (isinstance(self.quantity, int) and not isinstance(self.quantity, bool)
                       and self.quantity > 0)
        _refuse_if(_("Please correct the unpick."), {
            "quantity": None if quantity_ok else _("Enter a positive whole number."),
            "reason": (None if len(self.reason) <= MAX_NOTE
                       else _("At most %(n)d characters.") % {"n": MAX_NOTE})})

    @classmethod
    def parse(cls, *, quantity: str, reason: str = "") -> Unpick:
        quantity = (quantity or "").strip()
        return cls(quantity=int(quantity) if quantity.isdigit() else -1,
                   reason=(reason or "").strip())


@dataclass(frozen=True)
class Packing:
    """The package an order's picked goods go into."""

    package_type: str
    weight_kg: Decimal | None

    def __post_init__(self) -> None:
        weight_ok = self.weight_kg is not None and Decimal("0") < self.weight_kg <= MAX_WEIGHT_KG
        _refuse_if(_("Please correct the package."), {
            "package_type": (None if self.package_type in PackageType.values
                             else _("Choose box, crate or pallet.")),
            "weight": None if weight_ok else _("Enter the weight in kg (more than 0).")})

    @classmethod
    def parse(cls, *, package_type: str, weight) -> Packing:
        return cls(package_type=package_type, weight_kg=_decimal(weight, _grams))


@dataclass(frozen=True)
class Handover:
    """What the carrier took: its service, the tracking number and the cost
    (the service's list price when none is given)."""

    carrier_service: CarrierService | None
    tracking_number: str
    shipping_cost: Decimal | None = None

    def __post_init__(self) -> None:
        cost_ok = self.shipping_cost is None or self.shipping_cost >= 0
        _refuse_if(_("Please correct the shipment."), {
            "carrier_service": (None if self.carrier_service is not None
                                else _("Choose a carrier and service.")),
            "tracking_number": (
                None if 0 < len(self.tracking_number) <= MAX_TRACKING
                else _("Enter the tracking number (at most 64 characters).")),
            "shipping_cost": None if cost_ok else _("Enter an amount of 0 or more.")})

    @property
    def cost(self) -> Decimal:
        assert self.carrier_service is not None  # __post_init__ refuses a missing one
        return self.carrier_service.price if self.shipping_cost is None else self.shipping_cost

    @classmethod
    def parse(cls, *, carrier_service_id, tracking_number: str, shipping_cost=None) -> Handover:
        """Form values: an active carrier service's id, and a blank cost for
        the list price."""
        service = (CarrierService.objects.select_related("carrier")
                   .filter(pk=carrier_service_id, is_active=True, carrier__is_active=True).first()
                   if str(carrier_service_id or "").isdigit() else None)
        cost = None
        if shipping_cost not in (None, ""):
            cost = _decimal(shipping_cost, quantize_money)
            if cost is None:  # not a number: refused like a negative amount
                cost = Decimal("-1")
        return cls(carrier_service=service, tracking_number=(tracking_number or "").strip(),
                   shipping_cost=cost)


@dataclass(frozen=True)
class CarrierEvent:
    """A carrier's status update for the shipment with `tracking_number`,
    sent with a token of the carrier `carrier_code` (the only carrier whose
    shipments it may update; blank matches none). `occurred_at` None: now.
    Whether the time fits the shipment (after it shipped, not in the
    future) is checked against the shipment, by the service."""

    carrier_code: str
    tracking_number: str
    status: str
    occurred_at: datetime | None = None
    description: str = ""
    # Only with the status "exception": one of EXCEPTION_KINDS, blank for "other".
    exception_kind: str = ""

    def __post_init__(self) -> None:
        if self.status == "exception" and not self.exception_kind:
            object.__setattr__(self, "exception_kind", "other")
        if self.status == "exception":
            kind_error = (None if self.exception_kind in EXCEPTION_KINDS
                          else ", ".join(EXCEPTION_KINDS))
        else:
            kind_error = _("Only with the status exception.") if self.exception_kind else None
        errors = {
            "status": None if self.status in CARRIER_STATUSES else ", ".join(CARRIER_STATUSES),
            "exception_kind": kind_error,
            "occurred_at": (None if self.occurred_at is None
                            or self.occurred_at.tzinfo is not None
                            else _("Give the time with its UTC offset.")),
            "description": (None if len(self.description) <= MAX_NOTE
                            else _("At most %(n)d characters.") % {"n": MAX_NOTE}),
        }
        field_errors = {name: [error] for name, error in errors.items() if error}
        if field_errors:
            error = ApplicationError(_("Please correct the status update."),
                                     field_errors=field_errors)
            error.status = 422
            raise error


@dataclass(frozen=True)
class InspectionInput:
    """What inspection made of a return's received units, per return line id:
    restocked, scrapped, back to the supplier (each at least 0)."""

    lines: dict[int, tuple[int, int, int]]

    @classmethod
    def from_form(cls, data: Mapping[str, str], line_ids: list[int]) -> InspectionInput:
        """Form fields `restock-<id>`, `scrap-<id>`, `supplier-<id>`; blank is 0."""
        lines: dict[int, tuple[int, int, int]] = {}
        errors: dict[str, str | None] = {}
        for line_id in line_ids:
            values = []
            for prefix in ("restock", "scrap", "supplier"):
                name = f"{prefix}-{line_id}"
                raw = (data.get(name) or "").strip() or "0"
                if not raw.isdigit() or int(raw) > 100_000:
                    errors[name] = _("Enter a whole number, 0 or more.")
                    values.append(0)
                else:
                    values.append(int(raw))
            lines[line_id] = (values[0], values[1], values[2])
        _refuse_if(_("Please correct the inspection."), errors)
        return cls(lines=lines)
