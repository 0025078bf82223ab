"""Order-to-cash cycle: hours from placement to approval, shipment, invoice
and payment, per order placed in the period, from the status-change
OrderEvent rows (the first event reaching each milestone). The headline
gives the average and the 90th percentile (percentile_cont) of each step,
and the orders stuck: still open and unchanged for longer than the
threshold (filter "stuck_days", default 3).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reporting import trends
from reporting.charts import Chart
from reporting.reports import (
    ORDER_FILTERS,
    Column,
    Headline,
    Report,
    ReportParams,
    fetch_all,
    register,
)
from reporting.reports._format import count, hours

OPEN = ("('placed', 'on_hold', 'reserved', 'backordered', 'picking', 'packed', 'shipped', "
        "'invoiced')")

MILESTONES = f"""
WITH milestones AS (
    SELECT o.id, o.number, c.name AS customer, o.status, o.placed_at, o.updated_at,
           min(e.created_at) FILTER (WHERE e.to_status IN ('reserved', 'backordered'))
               AS approved_at,
           min(e.created_at) FILTER (WHERE e.to_status = 'shipped') AS shipped_at,
           min(e.created_at) FILTER (WHERE e.to_status = 'invoiced') AS invoiced_at,
           min(e.created_at) FILTER (WHERE e.to_status = 'paid') AS paid_at,
           max(e.created_at) AS last_change_at
    FROM orders_order o
    JOIN customers_customer c ON c.id = o.customer_id
    LEFT JOIN orders_orderevent e ON e.order_id = o.id AND e.kind = 'status_changed'
    WHERE o.placed_at >= %(start)s AND o.placed_at < %(end)s AND {ORDER_FILTERS}
    GROUP BY o.id, c.name
), timed AS (
    SELECT *,
           extract(epoch FROM approved_at - placed_at) / 3600 AS to_approval,
           extract(epoch FROM shipped_at - placed_at) / 3600 AS to_shipment,
           extract(epoch FROM invoiced_at - placed_at) / 3600 AS to_invoice,
           extract(epoch FROM paid_at - placed_at) / 3600 AS to_payment,
           (status IN {OPEN} AND coalesce(last_change_at, placed_at)
                < %(end)s - make_interval(days => %(stuck_days)s)) AS stuck
    FROM milestones
)
"""  # noqa: S608  constant SQL fragments; values are bound parameters

ROWS = MILESTONES + """
SELECT number, customer, status, placed_at, approved_at, shipped_at, invoiced_at, paid_at,
       round(to_approval::numeric, 1), round(to_shipment::numeric, 1),
       round(to_invoice::numeric, 1), round(to_payment::numeric, 1), stuck
FROM timed ORDER BY placed_at, id
"""

HEADLINE = MILESTONES + """
SELECT count(*),
       avg(to_approval), percentile_cont(0.9) WITHIN GROUP (ORDER BY to_approval),
       avg(to_shipment), percentile_cont(0.9) WITHIN GROUP (ORDER BY to_shipment),
       avg(to_invoice), percentile_cont(0.9) WITHIN GROUP (ORDER BY to_invoice),
       avg(to_payment), percentile_cont(0.9) WITHIN GROUP (ORDER BY to_payment),
       count(*) FILTER (WHERE stuck)
FROM timed
"""


def headline(params: ReportParams) -> list[Headline]:
    (orders, *figures, stuck), = fetch_all(HEADLINE, params.sql())
    steps = [_("approval"), _("shipment"), _("invoice"), _("payment")]
    result = [Headline(_("Orders placed"), count(orders))]
    for index, step in enumerate(steps):
        average, p90 = figures[2 * index], figures[2 * index + 1]
        result.append(Headline(_("Hours to %(step)s: average / 90th percentile")
                               % {"step": step},
                               f"{hours(average)} / {hours(p90)}"))
    result.append(Headline(_("Orders stuck over %(days)s days") % {"days": params.stuck_days},
                           count(stuck)))
    return result


def chart(params: ReportParams) -> Chart:
    return trends.stage_durations(today=params.end.date(), since=params.start,
                                  until=params.end)


register(Report(
    key="order_to_cash",
    label=gettext_lazy("Order-to-cash cycle"),
    description=gettext_lazy("Hours from placement to approval, shipment, invoice and "
                             "payment; averages, 90th percentile and stuck orders."),
    columns=[Column(gettext_lazy("Order")), Column(gettext_lazy("Customer")),
             Column(gettext_lazy("Status")), Column(gettext_lazy("Placed"), "datetime"),
             Column(gettext_lazy("Approved"), "datetime"),
             Column(gettext_lazy("Shipped"), "datetime"),
             Column(gettext_lazy("Invoiced"), "datetime"),
             Column(gettext_lazy("Paid"), "datetime"),
             Column(gettext_lazy("Hours to approval"), "number"),
             Column(gettext_lazy("Hours to shipment"), "number"),
             Column(gettext_lazy("Hours to invoice"), "number"),
             Column(gettext_lazy("Hours to payment"), "number"),
             Column(gettext_lazy("Stuck"), "bool")],
    rows_sql=ROWS,
    headline=headline,
    chart=chart,
))
