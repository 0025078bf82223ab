"""CSV export of the order list, streamed in constant memory.

The rows come from orders.selectors.search_orders (the order list's own
filters and sort) read through a server-side cursor in chunks, and each CSV
line is yielded as soon as it is written: a million orders never sit in
memory, and the export costs one query whatever its length.

Spreadsheet formula injection: a cell that begins with = + - @ (or a tab or
carriage return, which some spreadsheets skip before reading a formula) is
prefixed with an apostrophe, so a customer named "=HYPERLINK(...)" is shown
as text, never evaluated (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import Channel, OrderStatus, PaymentMethod
from orders.selectors import OrderFilters, search_orders

CHUNK_SIZE = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ("number", "created_at", "placed_at", "status", "channel", "customer__name",
           "customer__email", "currency", "total_net", "total_tax", "total_gross",
           "payment_method")


def escape_cell(value: object) -> object:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write() returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def header() -> list[str]:
    return [_("Number"), _("Created"), _("Placed"), _("Status"), _("Channel"), _("Customer"),
            _("E-mail"), _("Currency"), _("Net"), _("Tax"), _("Gross"), _("Payment method")]


def order_csv_rows(filters: OrderFilters, *, chunk_size: int = CHUNK_SIZE,
                   order_ids: list[int] | None = None) -> Iterator[str]:
    """The CSV text of the filtered order list, one line at a time.

    Labels are translated now, in the request's language; the rows are read
    later, while the response streams."""
    statuses = {value: str(label) for value, label in OrderStatus.choices}
    channels = {value: str(label) for value, label in Channel.choices}
    methods = {value: str(label) for value, label in PaymentMethod.choices}
    titles = [str(title) for title in header()]
    queryset = search_orders(filters).values_list(*COLUMNS)
    if order_ids is not None:  # a selection of the list
        queryset = queryset.filter(pk__in=order_ids)

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield "\ufeff"  # BOM: spreadsheets then read the file as UTF-8
        yield writer.writerow([escape_cell(title) for title in titles])
        for (number, created_at, placed_at, status, channel, name, email, currency, net, tax,
             gross, method) in queryset.iterator(chunk_size=chunk_size):
            yield writer.writerow([escape_cell(cell) for cell in (
                number, _when(created_at), _when(placed_at), statuses.get(status, status),
                channels.get(channel, channel), name, email, currency, _amount(net),
                _amount(tax), _amount(gross), methods.get(method, method))])

    return lines()
