"""Low stock and backorders, now: stock levels at or under their reorder
level, and products with units waiting for stock on open orders (each line's
backordered quantity: short at approval or at picking)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reporting.reports import Column, Headline, Report, ReportParams, fetch_all, register
from reporting.reports._format import count

WAITING = """
WITH waiting AS (
    SELECT l.product_id, sum(l.backordered_quantity) AS units
    FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
    WHERE l.backordered_quantity > 0
      AND o.status NOT IN ('cancelled', 'expired', 'shipped', 'invoiced', 'paid')
    GROUP BY l.product_id
), levels AS (
    SELECT p.id AS product_id, p.sku, p.name, w.code AS warehouse, s.on_hand, s.reserved,
           s.on_hand - s.reserved AS available, s.reorder_level
    FROM inventory_stocklevel s
    JOIN inventory_product p ON p.id = s.product_id
    JOIN inventory_warehouse w ON w.id = s.warehouse_id
    WHERE p.is_active AND w.is_active
      AND (%(warehouse)s::bigint IS NULL OR w.id = %(warehouse)s)
)
"""

ROWS = WAITING + """
SELECT lv.sku, lv.name, lv.warehouse, lv.on_hand, lv.reserved, lv.available, lv.reorder_level,
       coalesce(wt.units, 0) AS backordered
FROM levels lv LEFT JOIN waiting wt ON wt.product_id = lv.product_id
WHERE lv.available <= lv.reorder_level OR wt.units > 0
ORDER BY lv.available - lv.reorder_level, lv.sku, lv.warehouse
"""

HEADLINE = WAITING + """
SELECT (SELECT count(*) FROM levels WHERE available <= reorder_level),
       (SELECT count(*) FROM waiting),
       (SELECT coalesce(sum(units), 0) FROM waiting)
"""  # noqa: S608  constant SQL fragments; values are bound parameters


def headline(params: ReportParams) -> list[Headline]:
    (low, products, units), = fetch_all(HEADLINE, params.sql())
    return [Headline(_("Stock levels at or under reorder level"), count(low)),
            Headline(_("Products on backorder"), count(products)),
            Headline(_("Units on backorder"), count(units))]


register(Report(
    key="low_stock",
    label=gettext_lazy("Low stock and backorders"),
    description=gettext_lazy("Stock at or under its reorder level and units waiting for "
                             "stock (as of the run, not the period)."),
    columns=[Column(gettext_lazy("SKU")), Column(gettext_lazy("Product")),
             Column(gettext_lazy("Warehouse")), Column(gettext_lazy("On hand"), "int"),
             Column(gettext_lazy("Reserved"), "int"), Column(gettext_lazy("Available"), "int"),
             Column(gettext_lazy("Reorder level"), "int"),
             Column(gettext_lazy("Backordered"), "int")],
    rows_sql=ROWS,
    headline=headline,
    uses_period=False,
    filters=("warehouse",),
))
