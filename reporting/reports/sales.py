"""Sales summary: orders and revenue (net, tax, gross) by day, channel and product.

Sold orders are those placed in the period and not cancelled or expired
(as on the manager dashboard). Line tax is computed per line at its rate and
rounded to the cent, so the lines of one order add up to its tax total
within rounding.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

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
from reporting.reports._format import count, money

SOLD = """
    o.placed_at >= %(start)s AND o.placed_at < %(end)s
    AND o.status NOT IN ('cancelled', 'expired')
"""

ROWS = f"""
SELECT (o.placed_at AT TIME ZONE %(tz)s)::date AS day, o.channel, l.sku, l.name, o.currency,
       count(DISTINCT o.id) AS orders, sum(l.quantity) AS quantity,
       sum(l.line_net) AS net,
       sum(round(l.line_net * l.tax_rate / 100, 2)) AS tax,
       sum(l.line_net + round(l.line_net * l.tax_rate / 100, 2)) AS gross
FROM orders_order o
JOIN customers_customer c ON c.id = o.customer_id
JOIN orders_orderline l ON l.order_id = o.id
WHERE {SOLD} AND {ORDER_FILTERS}
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 5
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
    return figures


def chart(params: ReportParams) -> Chart:
    return trends.orders_per_day(start=params.start, end=params.end,
                                 zone=ZoneInfo(params.timezone))


register(Report(
    key="sales_summary",
    label=gettext_lazy("Sales summary"),
    description=gettext_lazy("Orders and revenue (net, tax, gross) by day, channel and product."),
    columns=[Column(gettext_lazy("Day"), "date"), Column(gettext_lazy("Channel")),
             Column(gettext_lazy("SKU")), Column(gettext_lazy("Product")),
             Column(gettext_lazy("Currency")), Column(gettext_lazy("Orders"), "int"),
             Column(gettext_lazy("Quantity"), "int"), Column(gettext_lazy("Net"), "money"),
             Column(gettext_lazy("Tax"), "money"), Column(gettext_lazy("Gross"), "money")],
    rows_sql=ROWS,
    headline=headline,
    chart=chart,
))
