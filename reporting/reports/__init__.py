"""Reports that can be e-mailed on a schedule: a registry of streaming SQL.

Each report is one SQL query for its rows (read through a server-side
cursor by reporting.reports.builders, so a million rows never sit in
memory) and one small aggregate query for the headline figures that go into
the e-mail body. Queries are plain SQL with named parameters: the same
filters (warehouse, channel, customer group) and the period bounds
[start, end) in the subscription's time zone apply to every report.

Customer "group": customers have no group field; the group is their kind
(person/company) or their standing (new/trusted/blocked), see GROUPS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils.translation import gettext_lazy as _

from reporting.charts import Chart

# filter value -> (customer column, value)
GROUPS = {
    "person": ("kind", "person"),
    "company": ("kind", "company"),
    "new": ("standing", "new"),
    "trusted": ("standing", "trusted"),
    "blocked": ("standing", "blocked"),
}
GROUP_CHOICES = [
    ("person", _("Persons")), ("company", _("Companies")), ("new", _("New customers")),
    ("trusted", _("Trusted customers")), ("blocked", _("Blocked customers")),
]
DEFAULT_STUCK_DAYS = 3


@dataclass(frozen=True)
class ReportParams:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    timezone: str = "Europe/Paris"
    warehouse_id: int | None = None
    channel: str | None = None
    customer_group: str | None = None
    stuck_days: int = DEFAULT_STUCK_DAYS

    @classmethod
    def from_filters(cls, filters: dict, *, start: datetime, end: datetime,
                     timezone: str) -> ReportParams:
        return cls(start=start, end=end, timezone=timezone,
                   warehouse_id=filters.get("warehouse") or None,
                   channel=filters.get("channel") or None,
                   customer_group=filters.get("customer_group") or None,
                   stuck_days=int(filters.get("stuck_days") or DEFAULT_STUCK_DAYS))

    def sql(self) -> dict:
        """Named parameters every query may use."""
        kind = standing = None
        if self.customer_group in GROUPS:
            column, value = GROUPS[self.customer_group]
            kind, standing = (value, None) if column == "kind" else (None, value)
        return {"start": self.start, "end": self.end, "tz": self.timezone,
                "warehouse": self.warehouse_id, "channel": self.channel,
                "group_kind": kind, "group_standing": standing,
                "stuck_days": self.stuck_days}


# SQL fragments shared by the order-based reports (o = orders_order, c = customer).
ORDER_FILTERS = """
    (%(channel)s::text IS NULL OR o.channel = %(channel)s)
    AND (%(group_kind)s::text IS NULL OR c.kind = %(group_kind)s)
    AND (%(group_standing)s::text IS NULL OR c.standing = %(group_standing)s)
    AND (%(warehouse)s::bigint IS NULL OR EXISTS (
        SELECT 1 FROM inventory_reservation r
        WHERE r.order_id = o.id AND r.warehouse_id = %(warehouse)s))
"""


@dataclass(frozen=True)
class Column:
    title: object  # lazy translated
    # text | int | money | date | datetime | number | margin (money; None is "unknown")
    kind: str = "text"


@dataclass(frozen=True)
class Headline:
    label: str
    value: str


@dataclass(frozen=True)
class Report:
    key: str
    label: object
    description: object
    columns: list[Column]
    rows_sql: str  # ordered; named parameters from ReportParams.sql()
    headline: Callable[[ReportParams], list[Headline]]
    uses_period: bool = True
    # A picture of the period for the PDF, above the rows.
    chart: Callable[[ReportParams], Chart] | None = None
    filters: tuple[str, ...] = field(default=("warehouse", "channel", "customer_group"))


REGISTRY: dict[str, Report] = {}


def register(report: Report) -> Report:
    REGISTRY[report.key] = report
    return report


def get(key: str) -> Report:
    return REGISTRY[key]


# The order managers see them in.
ORDER = ["sales_summary", "order_to_cash", "receivables_aging", "fulfilment_performance",
         "low_stock"]


def choices() -> list[tuple[str, object]]:
    keys = [key for key in ORDER if key in REGISTRY] + [k for k in REGISTRY if k not in ORDER]
    return [(key, REGISTRY[key].label) for key in keys]


def fetch_all(sql: str, params: dict) -> list[tuple]:
    """A small aggregate (headline figures): a handful of rows at most."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def count_rows(report: Report, params: ReportParams) -> int:
    with connection.cursor() as cursor:
        sql = f"SELECT count(*) FROM ({report.rows_sql}) AS q"  # noqa: S608  constant SQL fragments; values are bound parameters
        cursor.execute(sql, params.sql())
        return cursor.fetchone()[0]


from reporting.reports import (  # noqa: E402,F401  registers the reports
    cycle,
    fulfilment,
    receivables,
    sales,
    stock,
)
