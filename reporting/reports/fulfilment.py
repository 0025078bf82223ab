"""Fulfilment performance: orders shipped in the period against their
promised delivery date, and the backlog (open orders by state, now)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.models import OrderStatus
from reporting.reports import (
    ORDER_FILTERS,
    Column,
    Headline,
    Report,
    ReportParams,
    fetch_all,
    register,
)
from reporting.reports._format import count

BACKLOG_STATES = ("placed", "on_hold", "reserved", "backordered", "picking", "packed")

SHIPPED = f"""
FROM orders_order o
JOIN customers_customer c ON c.id = o.customer_id
WHERE o.shipped_at >= %(start)s AND o.shipped_at < %(end)s AND {ORDER_FILTERS}
"""

ON_TIME = ("(o.promised_delivery_date IS NULL "
           "OR (o.shipped_at AT TIME ZONE %(tz)s)::date <= o.promised_delivery_date)")

ROWS = f"""
SELECT o.number, c.name, o.channel, o.placed_at, o.promised_delivery_date, o.shipped_at,
       {ON_TIME} AS on_time
{SHIPPED}
ORDER BY o.shipped_at, o.id
"""

HEADLINE = f"""
SELECT count(*), count(*) FILTER (WHERE {ON_TIME}) {SHIPPED}
"""

BACKLOG = f"""
SELECT o.status, count(*)
FROM orders_order o JOIN customers_customer c ON c.id = o.customer_id
WHERE o.status IN ({", ".join(f"'{s}'" for s in BACKLOG_STATES)}) AND {ORDER_FILTERS}
GROUP BY o.status
"""  # noqa: S608  constant SQL fragments; values are bound parameters


def headline(params: ReportParams) -> list[Headline]:
    (shipped, on_time), = fetch_all(HEADLINE, params.sql())
    rate = f"{100 * on_time / shipped:.1f} %" if shipped else "–"
    figures = [Headline(_("Orders shipped"), count(shipped)),
               Headline(_("Shipped by the promised date"), f"{count(on_time)} ({rate})")]
    backlog = dict(fetch_all(BACKLOG, params.sql()))
    for state in BACKLOG_STATES:
        figures.append(Headline(_("Backlog: %(state)s") % {"state": OrderStatus(state).label},
                                count(backlog.get(state, 0))))
    return figures


register(Report(
    key="fulfilment_performance",
    label=gettext_lazy("Fulfilment performance"),
    description=gettext_lazy("Orders shipped by the promised date, and the backlog by state."),
    columns=[Column(gettext_lazy("Order")), Column(gettext_lazy("Customer")),
             Column(gettext_lazy("Channel")), Column(gettext_lazy("Placed"), "datetime"),
             Column(gettext_lazy("Promised"), "date"),
             Column(gettext_lazy("Shipped"), "datetime"),
             Column(gettext_lazy("On time"), "bool")],
    rows_sql=ROWS,
    headline=headline,
))
