"""What to buy: quantities per supplier from the backorder queue, the
reorder levels, the units already on order and the suppliers' lead times;
the buyer adjusts them and creates the purchase orders in one go.

Per product: need = waiting backorders + reorder level - free stock - on
order. A positive need is ordered from the product's preferred supplier (else
its cheapest), raised to the minimum order and rounded up to whole packs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from inventory.models import Product, StockLevel, SupplierProduct
from inventory.purchase_models import Supplier, expected_date_for
from inventory.purchasing import selectors as purchasing_selectors
from inventory.purchasing import services as purchasing
from inventory.purchasing.inputs import NewPurchaseOrder, PurchaseLineInput
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.validation import field_errors
from orders.backorders import waiting_lines

MAX_PROPOSAL_LINES = 500


@dataclass
class ProposalLine:
    product: Product
    offer: SupplierProduct
    waiting: int
    reorder_level: int
    free: int
    on_order: int
    need: int
    quantity: int
    expected_date: date
    # The earliest promised delivery date among the orders waiting for it.
    promised_by: date | None
    # What the buyer typed and its errors, when the form comes back.
    value: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def field_name(self) -> str:
        return f"quantity_{self.product.pk}_{self.offer.supplier_id}"

    @property
    def arrives_late(self) -> bool:
        return self.promised_by is not None and self.expected_date > self.promised_by

    @property
    def line_cost(self) -> Decimal:
        return self.offer.unit_cost * self.quantity


@dataclass
class SupplierProposal:
    supplier: Supplier
    lines: list[ProposalLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.line_cost for line in self.lines), start=Decimal("0"))


@dataclass
class Proposal:
    suppliers: list[SupplierProposal]
    # Products that need buying but have no active supplier.
    unsourced: list[tuple[Product, int]]


def buying_proposal() -> Proposal:
    waiting = waiting_lines()
    waiting_units: dict[int, int] = defaultdict(int)
    promised: dict[int, date] = {}
    for line in waiting:
        waiting_units[line.product_id] += line.units
        if line.promised_delivery_date and (line.product_id not in promised
                                            or line.promised_delivery_date
                                            < promised[line.product_id]):
            promised[line.product_id] = line.promised_delivery_date
    levels = {row["product_id"]: row for row in
              StockLevel.objects.values("product_id").annotate(
                  free=Sum(F("on_hand") - F("reserved")), reorder=Sum("reorder_level"))}
    candidates = set(waiting_units) | {
        product_id for product_id, row in levels.items()
        if row["reorder"] and row["free"] <= row["reorder"]}
    on_order = purchasing_selectors.on_order(product_ids=candidates)
    needs = {}
    for product_id in candidates:
        row = levels.get(product_id, {"free": 0, "reorder": 0})
        need = (waiting_units.get(product_id, 0) + row["reorder"] - max(row["free"], 0)
                - on_order.get(product_id, 0))
        if need > 0:
            needs[product_id] = (need, row)
    products = Product.objects.in_bulk(list(needs))
    offers = purchasing_selectors.supplier_offers(product_ids=list(needs))
    by_supplier: dict[int, SupplierProposal] = {}
    unsourced = []
    for product_id in sorted(needs, key=lambda pk: products[pk].sku):
        need, row = needs[product_id]
        product = products[product_id]
        if not product.is_active:
            continue
        if product_id not in offers:
            unsourced.append((product, need))
            continue
        offer = offers[product_id][0]
        proposal = by_supplier.setdefault(offer.supplier_id,
                                          SupplierProposal(supplier=offer.supplier))
        proposal.lines.append(ProposalLine(
            product=product, offer=offer, waiting=waiting_units.get(product_id, 0),
            reorder_level=row["reorder"], free=row["free"],
            on_order=on_order.get(product_id, 0), need=need, quantity=offer.orderable(need),
            expected_date=expected_date_for(offer.lead_time_days),
            promised_by=promised.get(product_id)))
    return Proposal(suppliers=sorted(by_supplier.values(), key=lambda s: s.supplier.name),
                    unsourced=unsourced)


def parse_proposal(post: Mapping[str, str], *, warehouse_id: int) -> list[NewPurchaseOrder]:
    """The buyer's adjusted quantities (`quantity_<product>_<supplier>`;
    blank or 0 skips the line) as one new purchase order per supplier.
    Field errors are keyed by the form field names."""
    lines: dict[int, list[PurchaseLineInput]] = defaultdict(list)
    errors: dict[str, list[str]] = {}
    fields = [name for name in post if name.startswith("quantity_")][:MAX_PROPOSAL_LINES]
    for name in sorted(fields):
        parts = name.split("_")
        raw = (post.get(name) or "").strip()
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            continue
        if raw in ("", "0"):
            continue
        try:
            line = PurchaseLineInput.parse({"product_id": int(parts[1]), "quantity": raw})
        except ApplicationError as exc:
            errors[name] = [message for messages in exc.field_errors.values()
                            for message in messages]
            continue
        lines[int(parts[2])].append(line)
    if errors:
        raise ApplicationError(_("Please correct the quantities."), field_errors=errors)
    if not lines:
        raise ApplicationError(_("Enter a quantity on at least one line."))
    try:
        return [NewPurchaseOrder(supplier_id=supplier_id, warehouse_id=warehouse_id,
                                 lines=supplier_lines)
                for supplier_id, supplier_lines in sorted(lines.items())]
    except ValueError as exc:  # pydantic's ValidationError
        raise ApplicationError(_("Please correct the quantities."),
                               field_errors=field_errors(getattr(exc, "errors", list)())
                               ) from None


def create_from_proposal(*, post: Mapping[str, str], warehouse_id: int, actor: Actor) -> list:
    """Create the proposal's purchase orders (drafts) in one transaction."""
    orders = parse_proposal(post, warehouse_id=warehouse_id)
    with transaction.atomic(durable=True):
        return purchasing.create_purchase_orders(orders=orders, actor=actor)
