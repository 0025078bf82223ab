"""Demo suppliers, what they sell, and one purchase order already sent: the
one that brings the dual monitor arms the backordered demo order waits for.
Safe to run twice: suppliers are matched by code, the purchase order by its
note."""

from __future__ import annotations

from decimal import Decimal

from inventory.models import Product, PurchaseOrder, Supplier, SupplierProduct, Warehouse
from inventory.purchasing import services as purchasing
from inventory.purchasing.inputs import NewPurchaseOrder
from oms.lib.actors import Actor

# code, name, e-mail, contact, language, lead time (days)
SUPPLIERS = [
    ("BUREAU", "Bureau Direct SAS", "commandes@bureau-direct.example", "Claire Martin", "fr", 7),
    ("NORDIC", "Nordic Office Supply AB", "orders@nordic-office.example", "Erik Lund", "en", 14),
    ("TECHNO", "TechnoParts BV", "inkoop@technoparts.example", "Sanne de Vries", "nl", 5),
]
# SKU -> (supplier code, cost as a share of the sales price, minimum order, pack size)
OFFERS = {
    "DESK-OAK-160": ("NORDIC", "0.55", 2, 1),
    "CHAIR-ERGO-BLK": ("NORDIC", "0.50", 4, 2),
    "CAB-3DRW": ("BUREAU", "0.55", 2, 1),
    "MON-27-4K": ("TECHNO", "0.70", 5, 1),
    "LAMP-LED-01": ("BUREAU", "0.45", 12, 6),
    "KB-WL-FR": ("TECHNO", "0.50", 10, 10),
    "ARM-DUAL": ("TECHNO", "0.48", 6, 6),
}
PO_NOTE = "Demo: the monitor arms for the backordered order."


def seed_purchasing(*, actor: Actor) -> dict[str, int]:
    created = {"suppliers": 0, "supplier_products": 0, "purchase_orders": 0}
    suppliers = {}
    for code, name, email, contact, language, _lead_time in SUPPLIERS:
        suppliers[code], was_created = Supplier.objects.get_or_create(
            code=code, defaults={"name": name, "email": email, "contact_name": contact,
                                 "language": language})
        created["suppliers"] += was_created
    products = Product.objects.in_bulk(list(OFFERS), field_name="sku")
    for sku, (code, share, minimum, pack) in OFFERS.items():
        product = products.get(sku)
        if product is None:
            continue
        lead_time = next(days for c, *_rest, days in SUPPLIERS if c == code)
        _offer, was_created = SupplierProduct.objects.get_or_create(
            supplier=suppliers[code], product=product, defaults={
                "supplier_sku": f"{code[:3]}-{sku}", "is_preferred": True,
                "unit_cost": (product.unit_price * Decimal(share)).quantize(Decimal("0.01")),
                "lead_time_days": lead_time, "minimum_order_quantity": minimum,
                "pack_size": pack})
        created["supplier_products"] += was_created
    warehouse = Warehouse.objects.filter(code="PAR").first()
    arm = products.get("ARM-DUAL")
    if warehouse and arm and not PurchaseOrder.objects.filter(notes=PO_NOTE).exists():
        po = purchasing.create_purchase_order(data=NewPurchaseOrder.parse({
            "supplier_id": suppliers["TECHNO"].pk, "warehouse_id": warehouse.pk,
            "notes": PO_NOTE, "lines": [{"product_id": arm.pk, "quantity": 12}]}), actor=actor)
        purchasing.send_purchase_order(purchase_order_id=po.pk, actor=actor)
        created["purchase_orders"] += 1
    return created
