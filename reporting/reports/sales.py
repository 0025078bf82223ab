"""Sales summary: orders, revenue (net, tax, gross), cost and margin by day,
channel and product.

Sold orders are those placed in the period and not cancelled or expired
(as on the manager dashboard). Line tax is computed per line at its rate and
rounded to the cent, so the lines of one order add up to its tax total
within rounding. The cost is each line's unit cost copied at placement
(orders.costs); a row with a line of unknown cost has an unknown margin.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms.lib.money import ZERO
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
from reporting.reports._format import count, money, percent

SOLD = """
    o.placed_at >= %(start)s AND o.placed_at < %(end)s
    AND o.status NOT IN ('cancelled', 'expired')
"""

# The cost of the lines (unit cost snapshot x quantity), NULL when any
# line's cost is unknown: such a margin is shown as unknown, not as the net.
COST = "CASE WHEN count(l.unit_cost) = count(*) THEN sum(l.unit_cost * l.quantity) END"

ROWS = f"""
SELECT (o.placed_at AT TIME ZONE %(tz)s)::date AS day, o.channel, l.sku, l.name, o.currency,
       count(DISTINCT o.id) AS orders, sum(l.quantity) AS quantity,
       sum(l.line_net) AS net,
       sum(round(l.line_net * l.tax_rate / 100, 2)) AS tax,
       sum(l.line_net + round(l.line_net * l.tax_rate / 100, 2)) AS gross,
       {COST} AS cost, sum(l.line_net) - {COST} AS margin
FROM orders_order o
JOIN customers_customer c ON c.id = o.customer_id
JOIN orders_orderline l ON l.order_id = o.id
WHERE {SOLD} AND {ORDER_FILTERS}
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 5
"""  # noqa: S608  constant SQL fragments; values are bound parameters

# Margin per currency over the lines with a known cost, and the net of the
# lines without one (left out of the margin, and said so).
MARGIN = f"""
SELECT o.currency,
       sum(l.line_net) FILTER (WHERE l.unit_cost IS NOT NULL),
       sum(l.unit_cost * l.quantity),
       sum(l.line_net) FILTER (WHERE l.unit_cost IS NULL)
FROM orders_order o
JOIN customers_customer c ON c.id = o.customer_id
JOIN orders_orderline l ON l.order_id = o.id
WHERE {SOLD} AND {ORDER_FILTERS}
GROUP BY o.currency ORDER BY o.currency
"""  # noqa: S608  constant SQL fragments; values are bound parameters

HEADLINE = f"""
SELECT o.currency, count(*), sum(o.total_net), sum(o.total_tax), sum(o.total_gross)
FROM orders_order o JOIN customers_customer c ON c.id = o.customer_id
WHERE {SOLD} AND {ORDER_FILTERS}
GROUP BY o.currency ORDER BY o.currency
"""  # noqa: S608  constant SQL fragments; values are bound parameters


def headline(params: ReportParams) -> list[Headline]:
    rows = fetch_all(HEADLINE, params.sql())
    figures = [Headline(_("Orders"), count(sum(row[1] for row in rows)))]
    for currency, _orders, net, tax, gross in rows:
        figures += [Headline(_("Revenue net (%(currency)s)") % {"currency": currency},
                             money(net, currency)),
                    Headline(_("Tax (%(currency)s)") % {"currency": currency},
                             money(tax, currency)),
                    Headline(_("Revenue gross (%(currency)s)") % {"currency": currency},
                             money(gross, currency))]
    for currency, known_net, cost, unknown_net in fetch_all(MARGIN, params.sql()):
        margin = (known_net or ZERO) - (cost or ZERO)
        share = percent(margin, known_net)
        figures.append(Headline(_("Margin (%(currency)s)") % {"currency": currency},
                                f"{money(margin, currency)} ({share})" if share
                                else money(margin, currency)))
        if unknown_net:
            figures.append(Headline(
                _("Net of lines with unknown cost (%(currency)s)") % {"currency": currency},
                money(unknown_net, currency)))
    return figures


def chart(params: ReportParams) -> Chart:
    return trends.orders_per_day(start=params.start, end=params.end,
                                 zone=ZoneInfo(params.timezone))


register(Report(
    key="sales_summary",
    label=gettext_lazy("Sales summary"),
    description=gettext_lazy("Orders, revenue (net, tax, gross), cost and margin by day, "
                             "channel and product."),
    columns=[Column(gettext_lazy("Day"), "date"), Column(gettext_lazy("Channel")),
             Column(gettext_lazy("SKU")), Column(gettext_lazy("Product")),
             Column(gettext_lazy("Currency")), Column(gettext_lazy("Orders"), "int"),
             Column(gettext_lazy("Quantity"), "int"), Column(gettext_lazy("Net"), "money"),
             Column(gettext_lazy("Tax"), "money"), Column(gettext_lazy("Gross"), "money"),
             Column(gettext_lazy("Cost"), "margin"), Column(gettext_lazy("Margin"), "margin")],
    rows_sql=ROWS,
    headline=headline,
    chart=chart,
))
