"""CSV import of orders (channel "import"): parse, check every row, then place
all orders in one transaction, or none.

The file (UTF-8, comma or semicolon separated, header row required) has one
row per order line; rows with the same `order_ref` form one order, and the
order-level columns must agree on every row of an order.

| column | required | meaning |
| --- | --- | --- |
| order_ref | yes | the sender's reference; groups rows into one order |
| customer_email | yes | finds the customer, or creates one |
| customer_name | yes | name of a new customer |
| customer_phone | no | phone of a new customer |
| customer_kind | no | `person` (default) or `company` |
| customer_vat_id | no | EU VAT id of a new company customer, e.g. BE0123456749 |
| sku | yes | catalogue SKU, must be active |
| quantity | yes | whole number above zero |
| currency | yes | one of settings.CURRENCIES |
| ship_name, ship_line1, ship_postal_code, ship_city | yes | shipping address |
| ship_country | yes | ISO 3166-1 alpha-2, e.g. FR |
| ship_line2, ship_region | no | |
| payment_method | no | bank_transfer, net_terms or paypal (never cards in a file) |
| promised_delivery_date | no | YYYY-MM-DD |
| requested_carrier | no | the carrier the customer chose (free text) |
| ship_complete | no | yes: one parcel; no: ship what is ready; empty: the customer's |
| notes | no | free text on the order |
| discount | no | the line's discount: `10%` or an amount net of tax, `5.00` |
| order_discount | no | the order's discount, the same way |
| discount_code | no | a discount code |

Prices and totals are never read from the file: unknown columns are refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.models import Address, Customer, CustomerKind, Standing
from inventory import api as inventory_api
from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError
from oms.lib.progress import Progress
from oms.lib.submissions import claim_submission
from orders.capture import capture_order
from orders.inputs import CaptureOrder
from orders.models import Channel, Order
from orders.pricing import LineToPrice, no_price_error, price_lines
from orders.quote import quote
from orders.taxes import determine_vat, with_rates

REQUIRED_COLUMNS = [
    "order_ref", "customer_email", "customer_name", "sku", "quantity", "currency",
    "ship_name", "ship_line1", "ship_postal_code", "ship_city", "ship_country",
]
OPTIONAL_COLUMNS = [
    "customer_phone", "customer_kind", "customer_vat_id", "ship_line2", "ship_region",
    "payment_method", "promised_delivery_date", "requested_carrier", "ship_complete", "notes",
    "discount", "order_discount", "discount_code",
]
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Columns that describe the order, not the line: equal on every row of an order.
ORDER_COLUMNS = [
    "customer_email", "customer_name", "customer_phone", "customer_kind", "customer_vat_id",
    "currency", "ship_name", "ship_line1", "ship_line2", "ship_postal_code", "ship_city",
    "ship_region", "ship_country", "payment_method", "promised_delivery_date",
    "requested_carrier", "ship_complete", "notes", "order_discount", "discount_code",
]
PAYMENT_METHODS = {"bank_transfer", "net_terms", "paypal"}
MAX_ROWS = 20_000  # placed in the background with a progress bar (run_import)
MAX_BYTES = 10 * 1024 * 1024
IMPORT_DIR = "order-imports"
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.csv$")
# The confirm ticket is valid for an hour; unconfirmed uploads go after a day.
TICKET_MAX_AGE = 60 * 60
UPLOAD_KEEP_SECONDS = 24 * 60 * 60
MAX_REF = 64
# What a one-time form key was used for (`oms.lib.submissions`): the confirm button.
IMPORT_SUBMISSION = "orders.import"


@dataclass
class Row:
    number: int  # line number in the file (the header is line 1)
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(message)


@dataclass
class PlannedOrder:
    ref: str
    rows: list[Row]
    data: CaptureOrder | None = None  # None while any of its rows has errors
    total_net: Decimal = Decimal("0.00")
    total_tax: Decimal = Decimal("0.00")
    total_gross: Decimal = Decimal("0.00")

    @property
    def first(self) -> Row:
        return self.rows[0]

    @property
    def currency(self) -> str:
        return self.first.values["currency"]

    @property
    def customer_email(self) -> str:
        return self.first.values["customer_email"]


@dataclass
class ImportPreview:
    rows: list[Row]
    orders: list[PlannedOrder]
    file_errors: list[str]

    @property
    def is_clean(self) -> bool:
        return not self.file_errors and not any(row.errors for row in self.rows)

    @property
    def error_rows(self) -> list[Row]:
        return [row for row in self.rows if row.errors]

    @property
    def line_count(self) -> int:
        return len(self.rows)


# --- storage between preview and confirm --------------------------------------

def _import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / IMPORT_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(content: bytes) -> str:
    """Keep the uploaded bytes until confirmation; returns the stored name.
    The view hands the name to the browser signed, so it cannot be swapped.
    Previews never confirmed are swept here once their ticket has expired."""
    directory = _import_dir()
    cutoff = time.time() - UPLOAD_KEEP_SECONDS
    for stale in directory.glob("*.csv"):
        if stale.stat().st_mtime < cutoff:
            stale.unlink(missing_ok=True)
    name = f"{uuid.uuid4().hex}.csv"
    (directory / name).write_bytes(content)
    return name


def load_upload(name: str) -> bytes:
    if not STORED_NAME.match(name):
        raise ApplicationError(_("Unknown import file."))
    path = _import_dir() / name
    if not path.exists():
        raise ApplicationError(_("The uploaded file is gone; upload it again."))
    return path.read_bytes()


def discard_upload(name: str) -> None:
    if STORED_NAME.match(name):
        (_import_dir() / name).unlink(missing_ok=True)


def _done_marker(content: bytes) -> Path:
    return _import_dir() / f"{hashlib.sha256(content).hexdigest()}.imported"


# --- parsing and checking ---------------------------------------------------

def _decode(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        raise ApplicationError(_("The file is larger than 5 MB; split it."))
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(_("The file is not UTF-8 encoded text; export it as UTF-8 CSV."))


def parse(content: bytes) -> tuple[list[Row], list[str]]:
    """Rows with their raw values (stripped) and file-level errors."""
    text = _decode(content)
    if not text.strip():
        return [], [_("The file is empty.")]
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    errors = []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing:
        errors.append(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    if unknown:
        errors.append(_("Unknown columns: %(columns)s (prices and totals are never imported).")
                      % {"columns": ", ".join(unknown)})
    if errors:
        return [], errors
    rows = []
    for values in reader:
        if None in values:  # more cells than header columns
            row = Row(number=reader.line_num, values={})
            row.add_error("__row__", _("More cells than columns in the header."))
            rows.append(row)
            continue
        cleaned = {name: (values.get(name) or "").strip() for name in COLUMNS}
        if not any(cleaned.values()):
            continue  # blank line
        rows.append(Row(number=reader.line_num, values=cleaned))
        if len(rows) > MAX_ROWS:
            return [], [_("More than %(max)d rows; split the file.") % {"max": MAX_ROWS}]
    if not rows:
        errors.append(_("The file has a header but no rows."))
    return rows, errors


def _capture_input(rows: list[Row]) -> dict:
    """The capture input of one order: its first row's columns, a line per row."""
    values = rows[0].values
    quantities = [row.values["quantity"] for row in rows]
    return {
        "customer": {"email": values["customer_email"], "name": values["customer_name"],
                     "phone": values["customer_phone"], "vat_id": values["customer_vat_id"],
                     "kind": values["customer_kind"] or "person"},
        "channel": Channel.IMPORT,
        "currency": values["currency"].upper(),
        "lines": [{"sku": row.values["sku"], "quantity": int(q) if q.isdigit() else q,
                   "discount": row.values["discount"] or None}
                  for row, q in zip(rows, quantities, strict=True)],
        "shipping_address": {name: values[f"ship_{name}"] for name in Address.SNAPSHOT_FIELDS},
        "payment": {"method": values["payment_method"]} if values["payment_method"] else None,
        "promised_delivery_date": values["promised_delivery_date"] or None,
        "requested_carrier": values["requested_carrier"],
        "ship_complete": values["ship_complete"],
        "notes": values["notes"],
        "discount": values["order_discount"] or None,
        "discount_code": values["discount_code"],
    }


def _column(path: str) -> str:
    """The file column of an input path: `shipping_address.city` -> `ship_city`,
    `lines.3.sku` -> `sku` (on the order's fourth row)."""
    if path.startswith("lines."):
        return path.rsplit(".", 1)[-1]
    path = path.replace("shipping_address.", "ship_").replace("customer.", "customer_")
    return {"payment.method": "payment_method", "payment": "payment_method",
            "discount": "order_discount"}.get(path, path)


def _errors_onto_rows(field_errors: dict[str, list[str]], rows: list[Row]) -> None:
    for path, messages in field_errors.items():
        row = rows[0]
        if path.startswith("lines.") and path.split(".")[1].isdigit():
            row = rows[int(path.split(".")[1])]
        for message in messages:
            row.add_error(_column(path), message)


def _plan(ref: str, rows: list[Row]) -> PlannedOrder:
    """Parse the order's capture input; its field errors onto rows and columns."""
    planned = PlannedOrder(ref=ref, rows=rows)
    try:
        planned.data = CaptureOrder.parse(_capture_input(rows))
    except ApplicationError as exc:
        _errors_onto_rows(exc.field_errors, rows)
    return planned


def _preview_vat(planned: PlannedOrder, priced: list[tuple[inventory_api.ProductInfo, int]],
                 customer: Customer | None) -> list[tuple[inventory_api.ProductInfo, int]] | None:
    """The order's products at the VAT placement will decide (a known
    customer's kind and VAT id, which the file only fills in when blank);
    None, with the error on the row, when the destination is refused."""
    data = planned.data
    assert data is not None
    kind, vat_id = (customer.kind, customer.vat_id) if customer else ("", "")
    try:
        vat = determine_vat(
            ship_to_country=data.shipping_address.country,
            buyer_vat_id=vat_id or data.customer.vat_id,
            is_business=(kind or data.customer.kind) == CustomerKind.COMPANY,
            categories={product.tax_category for product, _q in priced})
    except ApplicationError as exc:
        planned.first.add_error("ship_country", exc.message)
        planned.data = None
        return None
    return with_rates(priced, vat)


def check(content: bytes, *, actor: Actor = None) -> ImportPreview:
    """Parse and check the whole file without writing anything (`actor`:
    who imports; the totals are those placement will compute, VAT included)."""
    rows, file_errors = parse(content)
    if file_errors:
        return ImportPreview(rows=rows, orders=[], file_errors=file_errors)
    # Catalogue and blocked customers, in one query each, for the preview's totals.
    skus = sorted({row.values["sku"] for row in rows if row.values.get("sku")})
    products = inventory_api.products_by_sku(skus=skus)
    emails = {row.values["customer_email"].lower() for row in rows
              if row.values.get("customer_email")}
    # Known customers: their group's prices, their codes' limits, their VAT.
    on_file = {customer.email.lower(): customer for customer in Customer.objects.filter(
        email__in=emails).only("pk", "email", "standing", "group_id", "kind", "vat_id")}
    blocked = {email for email, customer in on_file.items()
               if customer.standing == Standing.BLOCKED}
    groups: OrderedDict[str, list[Row]] = OrderedDict()
    for row in rows:
        ref = row.values.get("order_ref")
        if ref:
            groups.setdefault(ref, []).append(row)
        if row.values and not ref:
            row.add_error("order_ref", _("Required."))
        elif ref and len(ref) > MAX_REF:
            row.add_error("order_ref", _("At most %(limit)d characters.") % {"limit": MAX_REF})
        payment_method = row.values.get("payment_method")
        if payment_method and payment_method not in PAYMENT_METHODS:
            row.add_error("payment_method", _("Use bank_transfer, net_terms or paypal."))
        sku = row.values.get("sku")
        product = products.get(sku) if sku else None
        if sku and product is None:
            row.add_error("sku", _("Unknown SKU %(sku)s.") % {"sku": sku})
        elif product is not None and not product.is_active:
            row.add_error("sku", _("Product %(sku)s is no longer sold.") % {"sku": sku})
        if row.values.get("customer_email", "").lower() in blocked:
            row.add_error("customer_email", _("This customer is blocked and cannot order."))
    orders = []  # order-level columns must agree with the order's first row
    for ref, group in groups.items():
        first = group[0]
        seen_skus: dict[str, int] = {}
        for row in group:
            if row is not first:
                for name in ORDER_COLUMNS:
                    if row.values.get(name, "") != first.values.get(name, ""):
                        row.add_error(name, _("Differs from line %(line)d of order %(ref)s.")
                                      % {"line": first.number, "ref": ref})
            sku = row.values.get("sku")
            if sku in seen_skus:
                row.add_error("sku", _("%(sku)s already appears on line %(line)d of this order.")
                              % {"sku": sku, "line": seen_skus[sku]})
            elif sku:
                seen_skus[sku] = row.number
        planned = _plan(ref, group)
        if any(row.errors for row in group):
            planned.data = None
        else:
            assert planned.data is not None  # parsed: its rows have no errors
            data = planned.data
            customer = on_file.get(data.customer.email.lower())
            priced_lines = _priced_products(planned, products=products, customer=customer)
            if priced_lines is not None:
                priced_lines = _preview_vat(planned, priced_lines, customer)
            if priced_lines is not None:
                priced = quote(priced=priced_lines,
                               line_discounts=[line.discount for line in data.lines],
                               discount=data.discount, code=data.discount_code,
                               customer_id=customer.pk if customer else None,
                               currency=data.currency, country=data.shipping_address.country,
                               actor=actor)
                _errors_onto_rows(priced.errors, group)
                if priced.errors:
                    planned.data = None
                planned.total_net, planned.total_tax, planned.total_gross = (
                    priced.totals.net, priced.totals.tax, priced.totals.gross)
        orders.append(planned)
    if _done_marker(content).exists():
        file_errors.append(_("This exact file was already imported."))
    return ImportPreview(rows=rows, orders=orders, file_errors=file_errors)


def _priced_products(planned: PlannedOrder, *,
                     products: dict[str, inventory_api.ProductInfo],
                     customer: Customer | None
                     ) -> list[tuple[inventory_api.ProductInfo, int]] | None:
    """Each line's product at its price-list price, as placement will price
    it; None when a line has no price in the order's currency (an error on
    its `sku`)."""
    assert planned.data is not None
    data = planned.data
    prices = price_lines(customer=customer, currency=data.currency,
                         on_date=timezone.localdate(),
                         lines=[LineToPrice(product_id=products[line.sku].id,
                                            quantity=line.quantity) for line in data.lines])
    for row, line, price in zip(planned.rows, data.lines, prices, strict=True):
        if price is None:
            row.add_error("sku", no_price_error(sku=line.sku, currency=data.currency))
    if None in prices:
        planned.data = None
        return None
    return [(replace(products[line.sku], unit_price=price.unit_price), line.quantity)
            for line, price in zip(data.lines, prices, strict=True) if price is not None]


# --- the import ---------------------------------------------------------------

def import_orders(*, content: bytes, actor: Actor, progress: Progress | None = None
                  ) -> list[Order]:
    """Place every order of a clean file in ONE transaction: a failure on any
    order (say, stock gone since the preview) rolls back all of them.

    Plain `atomic()`: it runs inside the outbox runner's transaction when the
    import runs in the background (`run_import`)."""
    preview = check(content, actor=actor)
    if not preview.is_clean:
        raise ApplicationError(_("The file has errors; nothing was imported."), code="dirty")
    placed: list[Order] = []
    if progress is not None:
        progress.advance(0, total=len(preview.orders))
    with transaction.atomic():
        for planned in preview.orders:
            # Parsed by the preview; the reference joins the notes afterwards.
            assert planned.data is not None  # a clean preview parsed every order
            data = planned.data.model_copy(
                update={"notes": _join_notes(planned.ref, planned.data.notes)})
            try:
                order = capture_order(data, actor=actor)
            except ApplicationError as exc:
                error = ApplicationError(
                    _("Order %(ref)s (line %(line)d): %(error)s Nothing was imported.")
                    % {"ref": planned.ref, "line": planned.first.number, "error": exc.message},
                    field_errors=exc.field_errors, code=exc.code)
                error.status = exc.status  # 409 for stock gone since the preview
                raise error
            placed.append(order)
            if progress is not None:
                progress.advance()
        # Inside the transaction: the marker is written only if every order commits.
        marker = _done_marker(content)
        transaction.on_commit(lambda: marker.write_text("imported\n"))
    return placed


IMPORT_HANDLER = "orders.import_file"


def start_import(*, upload: str, actor: Actor, label: str, submission_key: str | None = None
                 ) -> Progress:
    """Queue the import of a previewed upload (see `store_upload`) for a
    worker; returns the handle its progress bar follows.

    `submission_key`: the confirm form's one-time key; a second confirm with
    it (a double click) raises `AlreadySubmitted` and queues nothing."""
    assert actor is not None and actor.pk is not None  # an import has a person behind it
    with transaction.atomic(durable=True):
        claim_submission(key=submission_key, purpose=IMPORT_SUBMISSION, actor=actor)
        progress = Progress.start(user_id=actor.pk, label=label)
        outbox.enqueue(IMPORT_HANDLER, {"upload": upload, "user_id": actor.pk,
                                        "progress": progress.key})
    return progress


def run_import(*, upload: str, user_id: int, progress_key: str) -> None:
    """The background half of the import: place the orders, report the
    outcome on the progress bar. A refusal (stock gone since the preview)
    is an outcome, not an error to retry; a repeat after success does nothing."""
    progress = Progress(progress_key)
    state = progress.state()
    if state is not None and state.finished:
        return
    try:
        orders = import_orders(content=load_upload(upload),
                               actor=get_user_model().objects.get(pk=user_id),
                               progress=progress)
    except ApplicationError as exc:
        progress.finish(message=exc.message, failed=True)
        return
    transaction.on_commit(lambda: discard_upload(upload))
    progress.finish(
        message=ngettext("%(count)d order imported.", "%(count)d orders imported.",
                         len(orders)) % {"count": len(orders)},
        result_url=reverse("orders:list") + f"?channel={Channel.IMPORT.value}")


def _join_notes(ref: str, notes: str) -> str:
    reference = _("Imported, reference %(ref)s") % {"ref": ref}
    return f"{reference}\n{notes}" if notes else reference


@outbox.handler(IMPORT_HANDLER)
def _import_file(payload: dict) -> None:
    run_import(upload=payload["upload"], user_id=payload["user_id"],
               progress_key=payload["progress"])
