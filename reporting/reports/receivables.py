"""Accounts receivable aging by customer, as of the last day of the period.

Outstanding = gross - paid - credited of billing's unsettled invoices issued
by then, bucketed by days past due (current, 1-30, 31-60, 61-90, over 90),
one row per customer and currency. Channel and warehouse filters do not
apply (an invoice belongs to a customer); the customer group does.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reporting import trends
from reporting.charts import Chart
from reporting.reports import Column, Headline, Report, ReportParams, fetch_all, register
from reporting.reports._format import count, money

AGING = """
WITH open_invoices AS (
    SELECT c.id AS customer_id, c.name AS customer, c.email, i.currency,
           i.total_gross - i.amount_paid - i.amount_credited AS outstanding,
           ((%(end)s AT TIME ZONE %(tz)s)::date - 1) - i.due_date AS days_late
    FROM billing_invoice i
    JOIN customers_customer c ON c.id = i.customer_id
    WHERE i.status IN ('open', 'partially_paid') AND i.number IS NOT NULL
      AND i.issued_at < %(end)s
      AND (%(group_kind)s::text IS NULL OR c.kind = %(group_kind)s)
      AND (%(group_standing)s::text IS NULL OR c.standing = %(group_standing)s)
)
"""

ROWS = AGING + """
SELECT customer, email, currency, count(*) AS invoices,
       sum(outstanding) FILTER (WHERE days_late <= 0) AS current,
       sum(outstanding) FILTER (WHERE days_late BETWEEN 1 AND 30) AS late_1_30,
       sum(outstanding) FILTER (WHERE days_late BETWEEN 31 AND 60) AS late_31_60,
       sum(outstanding) FILTER (WHERE days_late BETWEEN 61 AND 90) AS late_61_90,
       sum(outstanding) FILTER (WHERE days_late > 90) AS late_over_90,
       sum(outstanding) AS total
FROM open_invoices
GROUP BY customer_id, customer, email, currency
ORDER BY total DESC, customer
"""

HEADLINE = AGING + """
SELECT currency, count(DISTINCT customer_id), sum(outstanding),
       sum(outstanding) FILTER (WHERE days_late > 0)
FROM open_invoices GROUP BY currency ORDER BY currency
"""


def headline(params: ReportParams) -> list[Headline]:
    rows = fetch_all(HEADLINE, params.sql())
    figures = [Headline(_("Customers with open invoices"), count(sum(r[1] for r in rows)))]
    for currency, _customers, total, overdue in rows:
        figures += [Headline(_("Outstanding (%(currency)s)") % {"currency": currency},
                             money(total, currency)),
                    Headline(_("Overdue (%(currency)s)") % {"currency": currency},
                             money(overdue, currency))]
    return figures


def chart(params: ReportParams) -> Chart:
    """Aging as of the period's last day."""
    last_day = (params.end - timedelta(microseconds=1)).astimezone(ZoneInfo(params.timezone))
    return trends.receivables_aging(today=last_day.date())


register(Report(
    key="receivables_aging",
    label=gettext_lazy("Accounts receivable aging"),
    description=gettext_lazy("Outstanding invoices by customer, by days past due."),
    columns=[Column(gettext_lazy("Customer")), Column(gettext_lazy("E-mail")),
             Column(gettext_lazy("Currency")), Column(gettext_lazy("Invoices"), "int"),
             Column(gettext_lazy("Not yet due"), "money"),
             Column(gettext_lazy("1-30 days"), "money"),
             Column(gettext_lazy("31-60 days"), "money"),
             Column(gettext_lazy("61-90 days"), "money"),
             Column(gettext_lazy("Over 90 days"), "money"),
             Column(gettext_lazy("Total"), "money")],
    rows_sql=ROWS,
    headline=headline,
    filters=("customer_group",),
    chart=chart,
))
