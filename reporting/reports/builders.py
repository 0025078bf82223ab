"""Report files built while streaming rows from SQL, in constant memory.

Rows come through a server-side cursor (`connection.chunked_cursor()`, a
named PostgreSQL cursor) CHUNK_SIZE at a time, inside a read-only
transaction so PostgreSQL streams them instead of materialising the result.
CSV lines and XLSX rows (openpyxl's write-only workbook, which spools rows to
a temporary file) go straight to a temporary file on disk, which is then
saved to default_storage under report-runs/. A million-row export therefore
holds one chunk in memory, never the result.

PDF is the exception: WeasyPrint lays out a whole document, so a PDF's
memory grows with its rows. It is meant for the summary-sized reports a
person reads; the CSV and XLSX formats are the ones for big exports.

Formula injection: a text cell starting with = + - @ (or tab / carriage
return) gets a leading apostrophe in every format (reporting.exports), so a
customer named "=HYPERLINK(...)" stays text in the spreadsheet.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils.translation import gettext as _

from oms.lib.pdf import render_pdf
from oms.lib.progress import Progress
from reporting.exports import escape_cell
from reporting.reports import Report, ReportParams

CHUNK_SIZE = 2000
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class BuiltFile:
    path: str  # in default_storage
    filename: str
    mimetype: str
    rows: int
    size: int


def stream_rows(report: Report, params: ReportParams, *,
                chunk_size: int = CHUNK_SIZE, progress: Progress | None = None
                ) -> Iterator[tuple]:
    """The report's rows, read chunk by chunk from a named cursor; each chunk
    read moves `progress` on.

    Must be consumed inside a transaction (build_file opens one): a named
    cursor lives only as long as its transaction."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(report.rows_sql, params.sql())
        while True:
            chunk = cursor.fetchmany(chunk_size)
            if not chunk:
                return
            if progress is not None:
                progress.advance(len(chunk))
            yield from chunk


def _text_cell(value: object, kind: str, zone: ZoneInfo) -> str:
    if value is None:
        return _("unknown") if kind == "margin" else ""
    if kind == "bool":
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}" if kind in ("money", "margin") else str(value)
    return str(escape_cell(value) if isinstance(value, str) else value)


def text_row(report: Report, row: tuple, zone: ZoneInfo) -> list[str]:
    return [_text_cell(value, column.kind, zone)
            for value, column in zip(row, report.columns, strict=True)]


def _sheet_cell(value: object, kind: str, zone: ZoneInfo) -> object:
    if value is None:
        return _("unknown") if kind == "margin" else None
    if kind == "bool":
        return _("yes") if value else _("no")
    if isinstance(value, datetime):  # Excel has no time zones: local wall time
        return value.astimezone(zone).replace(tzinfo=None)
    if isinstance(value, str):
        return escape_cell(value)
    return value


def _write_csv(report: Report, rows: Iterator[tuple], handle, zone: ZoneInfo) -> int:
    text = open(handle.fileno(), "w", encoding="utf-8", newline="", closefd=False)  # noqa: SIM115
    writer = csv.writer(text)
    text.write("\ufeff")  # BOM: spreadsheets then read the file as UTF-8
    writer.writerow([escape_cell(str(column.title)) for column in report.columns])
    count = 0
    for row in rows:
        writer.writerow(text_row(report, row, zone))
        count += 1
    text.flush()
    return count


def _write_xlsx(report: Report, rows: Iterator[tuple], handle, zone: ZoneInfo,
                title: str) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Report")
    sheet.append([str(column.title) for column in report.columns])
    count = 0
    for row in rows:
        sheet.append([_sheet_cell(value, column.kind, zone)
                      for value, column in zip(row, report.columns, strict=True)])
        count += 1
    workbook.save(handle.name)
    return count


def _write_pdf(report: Report, rows: Iterator[tuple], handle, zone: ZoneInfo,
               context: dict, params: ReportParams) -> int:
    lines = [text_row(report, row, zone) for row in rows]
    handle.write(render_pdf("pdf/reporting/report.html", {
        **context, "columns": [str(column.title) for column in report.columns],
        "rows": lines, "chart": report.chart(params) if report.chart else None}))
    handle.flush()
    return len(lines)


def build_file(*, report: Report, params: ReportParams, fmt: str, basename: str,
               context: dict, chunk_size: int = CHUNK_SIZE,
               progress: Progress | None = None) -> BuiltFile:
    """Write the report's file to default_storage; returns where and how big."""
    zone = ZoneInfo(params.timezone)
    with tempfile.NamedTemporaryFile(suffix=f".{fmt}") as handle:
        with transaction.atomic():  # the named cursor's lifetime; reads only
            rows = stream_rows(report, params, chunk_size=chunk_size, progress=progress)
            if fmt == "csv":
                count = _write_csv(report, rows, handle, zone)
            elif fmt == "xlsx":
                count = _write_xlsx(report, rows, handle, zone, str(report.label))
            elif fmt == "pdf":
                count = _write_pdf(report, rows, handle, zone, context, params)
            else:
                raise ValueError(f"unknown report format {fmt!r}")
        handle.seek(0)
        filename = f"{basename}.{fmt}"
        path = default_storage.save(f"report-runs/{filename}", File(handle, name=filename))
    return BuiltFile(path=path, filename=filename, mimetype=MIMETYPES[fmt], rows=count,
                     size=default_storage.size(path))


def preview_rows(*, report: Report, params: ReportParams, limit: int = 20
                 ) -> list[list[str]]:
    """The first rows as text, for the preview on the subscription page."""
    zone = ZoneInfo(params.timezone)
    with connection.cursor() as cursor:
        sql = f"SELECT * FROM ({report.rows_sql}) AS q LIMIT %(preview_limit)s"  # noqa: S608  constant SQL fragments; values are bound parameters
        cursor.execute(sql, {**params.sql(), "preview_limit": limit})
        return [text_row(report, row, zone) for row in cursor.fetchall()]
