"""Issuing invoices and credit notes, and the shipment handler that does it.

`invoice_shipped_order` reacts to the "order.shipped" domain event (an outbox
handler, so it runs after the shipment committed, at least once): it captures
the card authorised at approval, issues the invoice, applies the captured
money to it, and moves the order to `invoiced` (and `paid` when the captured
money settles it). Everything is one transaction, idempotent per order: the
order row is locked first and an order has at most one invoice.

Numbering: `_take_number` locks the counter row of the series and year with
SELECT ... FOR UPDATE and is the last write on billing's tables in every
issuing transaction (only the order's status change, on the order row we
locked first, follows it). So a rollback anywhere gives the number back
(gapless), concurrent issues queue on the counter only briefly, and the
unique constraint on (series, year, sequence) is a second guard.

Lock order: order row, then invoice row, then the counter; the providers
lock their payment rows in between (capture). A back-office form's one-time
key (`oms.lib.submissions`) is claimed before all of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_fsm import can_proceed

from billing.locks import lock_order, lock_order_and_invoice
from billing.models import (
    UNSETTLED_STATUSES,
    CreditNote,
    CreditNoteLine,
    CustomerCredit,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    InvoiceTaxRate,
    Payment,
    PaymentStatus,
    format_document_number,
)
from billing.providers import get_provider
from billing.services.approval import CARD_ACCEPTED, CARD_METHODS
from customers.models import CustomerKind
from oms.lib import outbox
from oms.lib.actors import Actor
from oms.lib.errors import ApplicationError, NotAllowed
from oms.lib.money import ZERO, quantize_money, tax_amount, to_decimal
from oms.lib.money import format_money as money
from oms.lib.submissions import claim_submission, record_submission_result
from orders import events as order_events
from orders import services as order_services
from orders.models import Order, OrderLine
from orders.taxes import mention_for
from orders.totals import PricedLine, compute_totals

logger = logging.getLogger(__name__)

SHIPPED_HANDLER = "billing.invoice_shipped_order"
SHIPMENT_HANDLER = "billing.invoice_shipment"
RENDER_PDF_HANDLER = "billing.render_invoice_pdf"
CREDIT_NOTE_HANDLER = "billing.send_credit_note"
EMAIL_HANDLER = "orders.send_order_email"
# What a one-time form key was used for (`oms.lib.submissions`).
CREDIT_NOTE_SUBMISSION = "billing.issue_credit_note"


def invoice_series() -> str:
    return getattr(settings, "BILLING_INVOICE_SERIES", "INV")


def credit_note_series() -> str:
    return getattr(settings, "BILLING_CREDIT_NOTE_SERIES", "CN")


def seller_snapshot() -> dict:
    """The seller as the invoice prints it, with the mentions its country
    requires (see the SELLER_* settings; blank ones are not printed)."""
    return {"name": settings.SELLER_NAME, "address": settings.SELLER_ADDRESS,
            "vat_id": settings.SELLER_VAT_ID, "iban": settings.SELLER_IBAN,
            "bic": settings.SELLER_BIC, "country": settings.SELLER_COUNTRY,
            "legal_form": settings.SELLER_LEGAL_FORM,
            "registration": settings.SELLER_REGISTRATION,
            "late_payment_penalty": settings.SELLER_LATE_PAYMENT_PENALTY,
            "recovery_indemnity": settings.SELLER_RECOVERY_INDEMNITY}


def buyer_snapshot(order: Order) -> dict:
    customer = order.customer
    address = order.billing_address or {}
    if not address:
        default = customer.default_address("billing")
        address = default.as_snapshot() if default else dict(order.shipping_address or {})
    # The VAT id the order's VAT was decided with, when it was decided.
    return {"name": customer.name, "email": customer.email,
            "vat_id": order.vat_buyer_id or customer.vat_id,
            "is_business": customer.kind == CustomerKind.COMPANY, "address": address}


def vat_mention_text(order: Order, *, language: str | None = None) -> str:
    """The order's VAT mention in the buyer's language, stored on the invoice."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return mention_for(order.vat_reason)


def payment_terms_text(*, days: int, settled: bool, language: str | None = None) -> str:
    """The terms printed on the invoice, in the buyer's language (stored with
    the invoice, which never changes afterwards)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return _terms(days=days, settled=settled)


def _terms(*, days: int, settled: bool) -> str:
    if settled:
        return _("Paid in full at order; nothing is due.")
    if days == 0:
        return _("Payable on receipt of this invoice.")
    return ngettext("Payable within %(days)d day of the invoice date.",
                    "Payable within %(days)d days of the invoice date.", days) % {"days": days}


def _take_number(series: str, year: int) -> int:
    """The next number of `series` in `year`, under the counter row's lock.

    Call it as the last step of the issuing transaction (see the module
    docstring): the lock is held until commit.
    """
    with connection.cursor() as cursor:
        # The year's first document creates the row; ON CONFLICT makes two
        # first documents at once both find it instead of one failing.
        cursor.execute(
            "INSERT INTO billing_documentcounter (series, year, last_number) VALUES (%s, %s, 0) "
            "ON CONFLICT (series, year) DO NOTHING", [series, year])
    counter = DocumentCounter.objects.select_for_update().get(series=series, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def _number(document: Invoice | CreditNote) -> str:
    document.sequence = _take_number(document.series, document.year)
    document.number = format_document_number(document.series, document.year,
                                             document.sequence)
    document.save(update_fields=["sequence", "number"])
    return document.number


def _discount_share(line: OrderLine, units: int) -> Decimal:
    """The line's discounts (its own and its share of the order's) on its
    first `units` units: all of them when every unit is counted. Invoices
    of a line's parts take the differences, so together they take exactly
    the share of the units they carry (never a cent more or less)."""
    off = line.discount + line.order_discount
    return off if units == line.quantity else quantize_money(off * units / line.quantity)


def _shipped_discount(line: OrderLine, shipped: int) -> Decimal:
    """The line's discounts on the units shipped (all of them unless short-picked)."""
    return _discount_share(line, shipped)


@dataclass(frozen=True)
class _Supplied:
    """Units of one order line an invoice carries, with their discount."""

    line: OrderLine
    quantity: int
    discount: Decimal


@dataclass(frozen=True)
class _ShipmentRef:
    """The shipment an invoice covers, as fulfillment published it."""

    shipment_id: int
    number: str
    shipped_on: date


def _build_invoice(order: Order, *, actor: Actor, today: date) -> Invoice:
    """The invoice of the shipped goods, without its number yet."""
    supplied = []
    for line in order.lines.all().order_by("position"):
        # Units still waiting or cancelled were not supplied: not invoiced.
        shipped = line.quantity - line.backordered_quantity - line.cancelled_quantity
        if shipped > 0:
            supplied.append(_Supplied(line, shipped, _shipped_discount(line, shipped)))
    if not supplied:
        raise NotAllowed(_("Order %(number)s has no shipped goods to invoice.")
                         % {"number": order.number}, code="nothing_to_invoice")
    shipped_at = getattr(order, "shipped_at", None)
    supply_date = timezone.localdate(shipped_at) if shipped_at else today
    return _create_invoice(order, supplied, with_shipping=order.has_shipping_charge,
                           supply_date=supply_date, actor=actor, today=today)


def _create_invoice(order: Order, supplied: list[_Supplied], *, with_shipping: bool,
                    supply_date: date, actor: Actor, today: date,
                    shipment: _ShipmentRef | None = None) -> Invoice:
    priced = [PricedLine(unit_price=s.line.unit_price, tax_rate=s.line.tax_rate,
                         quantity=s.quantity, discount=s.discount) for s in supplied]
    if with_shipping:  # the charge line, as the order was placed
        priced.append(PricedLine(unit_price=order.shipping_net,
                                 tax_rate=order.shipping_tax_rate, quantity=1))
    totals = compute_totals(priced)
    terms_days = order.customer.payment_terms_days
    invoice = Invoice.objects.create(
        series=invoice_series(), year=today.year, order=order, customer=order.customer,
        issue_date=today, supply_date=supply_date, due_date=today + timedelta(days=terms_days),
        payment_terms=payment_terms_text(days=terms_days, settled=False,
                                         language=order.customer.preferred_language),
        seller=seller_snapshot(), buyer=buyer_snapshot(order),
        shipping_address=dict(order.shipping_address or {}), currency=order.currency,
        vat_reason=order.vat_reason,
        vat_mention=vat_mention_text(order, language=order.customer.preferred_language),
        total_net=totals.net, total_tax=totals.tax, total_gross=totals.gross,
        shipment_id=shipment.shipment_id if shipment else None,
        shipment_number=shipment.number if shipment else "",
        shipment_date=shipment.shipped_on if shipment else None,
        issued_by=actor if getattr(actor, "pk", None) else None)
    described = [(s.line, s.line.sku, s.line.name) for s in supplied] + [
        (None, "", order.shipping_label)] * with_shipping
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, position=position, order_line=line, sku=sku,
                    description=description, quantity=price.quantity,
                    unit_price=price.unit_price, tax_rate=price.tax_rate, net=price.net,
                    discount=price.discount)
        for position, ((line, sku, description), price) in enumerate(
            zip(described, priced, strict=True), start=1)])
    InvoiceTaxRate.objects.bulk_create([
        InvoiceTaxRate(invoice=invoice, rate=rate, net=net, tax=tax)
        for rate, (net, tax) in totals.by_rate.items()])
    return invoice


def issue_invoice(*, order_id: int, actor: Actor, today: date | None = None) -> Invoice:
    """Issue the invoice of an order's shipped goods (no status check, no
    payments): the building block of `invoice_shipped_order`.

    Plain `atomic()`: composable. Returns the existing invoice on a repeat.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        order = lock_order(order_id)
        existing = Invoice.objects.filter(order=order).first()
        if existing is not None:
            return existing
        invoice = _build_invoice(order, actor=actor, today=today)
        outbox.enqueue(RENDER_PDF_HANDLER, {"invoice_id": invoice.pk},
                       dedup_key=f"billing:invoice-pdf:{invoice.pk}")
        _number(invoice)  # last: see the module docstring
    return invoice


def invoice_shipped_order(*, order_id: int, actor: Actor = None, today: date | None = None
                          ) -> Invoice | None:
    """Capture, invoice, apply the captured money, mark invoiced (and paid).

    Runs inside the outbox runner's transaction (plain `atomic()`). A repeat
    finds the invoice and does nothing; an order that is no longer `shipped`
    and has no invoice (it cannot happen through the services) is logged and
    left alone rather than retried forever.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        order = lock_order(order_id)
        issued = list(Invoice.objects.filter(order=order).order_by("pk"))
        whole = next((inv for inv in issued if inv.shipment_id is None), None)
        if whole is not None:
            return whole
        if issued:
            # Invoiced shipment by shipment: the order is invoiced once every
            # unit that left is (the last shipment's handler may still run).
            _close_invoiced(order, actor=actor)
            return issued[-1]
        if not can_proceed(order.invoice):
            logger.warning("invoice: order %s is %s, not shipped; nothing issued",
                           order.number, order.status)
            return None
        invoice = _build_invoice(order, actor=actor, today=today)
        _capture_and_apply(order, invoice, actor=actor, today=today)
        if invoice.is_settled:
            # The terms printed on the invoice say it was paid by the capture.
            Invoice.objects.filter(pk=invoice.pk).update(
                payment_terms=payment_terms_text(
                    days=0, settled=True, language=order.customer.preferred_language),
                due_date=today)
            invoice.refresh_from_db()
        outbox.enqueue(RENDER_PDF_HANDLER, {"invoice_id": invoice.pk},
                       dedup_key=f"billing:invoice-pdf:{invoice.pk}")
        number = _number(invoice)  # last write on billing's tables: see the module docstring
        order_services.mark_invoiced(order_id=order.pk, invoice_number=number,
                                     actor=actor)
        if invoice.is_settled:
            order_services.mark_paid(order_id=order.pk, actor=actor)
    return invoice


def invoices_each_shipment() -> bool:
    """BILLING_INVOICE_EACH_SHIPMENT: each shipment is invoiced when it
    leaves (else the order is invoiced once, when all of it has left)."""
    return bool(getattr(settings, "BILLING_INVOICE_EACH_SHIPMENT", False))


def _invoiced_units(order: Order) -> dict[int, int]:
    """Units of each order line on the order's invoices so far."""
    return dict(InvoiceLine.objects.filter(invoice__order=order, order_line__isnull=False)
                .values("order_line_id").annotate(units=Sum("quantity"))
                .values_list("order_line_id", "units"))


def invoice_shipment(*, order_id: int, shipment_id: int, shipment_number: str,
                     shipped_on: date, lines: dict[int, int], earlier_shipments: int = 0,
                     actor: Actor = None, today: date | None = None) -> Invoice | None:
    """Invoice the units one shipment carried (`lines`: order line id ->
    units), when each shipment is invoiced (BILLING_INVOICE_EACH_SHIPMENT).

    The first invoice of the order carries the shipping charge; each line's
    discounts are shared out by units so the order's invoices together take
    exactly its discounts; the VAT is the order's decision. The card
    authorised at approval is captured for this invoice's amount (one
    partial capture per shipment). When every unit of the order is then
    invoiced and the order has shipped, it becomes `invoiced` (and `paid`
    when its invoices are settled).

    Runs inside the outbox runner's transaction (plain `atomic()`),
    idempotent per shipment: a repeat returns the shipment's invoice. No
    unit is invoiced twice: a line never takes more than its units not
    cancelled and not yet invoiced. An order that began without invoices
    per shipment (its earlier shipments left before the setting was on, or
    it has an invoice of the whole order) is left to the order-level
    invoice.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        order = lock_order(order_id)
        issued = list(Invoice.objects.filter(order=order))
        for invoice in issued:
            if invoice.shipment_id == shipment_id:
                return invoice
        if any(invoice.shipment_id is None for invoice in issued):
            return None
        if not issued and (not invoices_each_shipment() or earlier_shipments):
            return None
        invoiced = _invoiced_units(order)
        supplied = []
        for line in order.lines.all().order_by("position"):
            before = invoiced.get(line.pk, 0)
            units = min(lines.get(line.pk, 0),
                        line.quantity - line.cancelled_quantity - before)
            if units > 0:
                discount = _discount_share(line, before + units) - _discount_share(line, before)
                supplied.append(_Supplied(line, units, discount))
        if not supplied:
            logger.warning("invoice: shipment %s of order %s carries nothing left to invoice",
                           shipment_number, order.number)
            return None
        shipment = _ShipmentRef(shipment_id, shipment_number, shipped_on)
        invoice = _create_invoice(order, supplied,
                                  with_shipping=order.has_shipping_charge and not issued,
                                  supply_date=shipped_on, actor=actor, today=today,
                                  shipment=shipment)
        last = can_proceed(order.invoice) and _all_units_invoiced(order)
        _capture_for_shipment(order, invoice, shipment_id=shipment_id, last=last,
                              actor=actor, today=today)
        if invoice.is_settled:
            Invoice.objects.filter(pk=invoice.pk).update(
                payment_terms=payment_terms_text(
                    days=0, settled=True, language=order.customer.preferred_language),
                due_date=today)
            invoice.refresh_from_db()
        outbox.enqueue(RENDER_PDF_HANDLER, {"invoice_id": invoice.pk},
                       dedup_key=f"billing:invoice-pdf:{invoice.pk}")
        _number(invoice)  # last write on billing's tables: see the module docstring
        _close_invoiced(order, actor=actor)
    return invoice


def _all_units_invoiced(order: Order) -> bool:
    invoiced = _invoiced_units(order)
    return all(invoiced.get(line.pk, 0) >= line.quantity - line.cancelled_quantity
               for line in order.lines.all())


def _close_invoiced(order: Order, *, actor: Actor) -> None:
    """shipped -> invoiced once every unit of the order is on an invoice
    (each shipment invoiced), then -> paid when they are all settled."""
    if not can_proceed(order.invoice) or not _all_units_invoiced(order):
        return
    last = Invoice.objects.filter(order=order).order_by("-pk").first()
    assert last is not None and last.number is not None  # the units are on issued invoices
    order_services.mark_invoiced(order_id=order.pk, invoice_number=last.number, actor=actor)
    order.refresh_from_db(fields=["status"])
    _mark_paid_if_settled(order, actor=actor)


def _capture_for_shipment(order: Order, invoice: Invoice, *, shipment_id: int, last: bool,
                          actor: Actor, today: date) -> None:
    """Pay one shipment's invoice: first with money the order has already
    received and not yet applied (a prepayment), then by capturing that
    much of the card authorised at approval (a partial capture per
    shipment). The last invoice takes whatever is left of the received
    money (beyond its amount: customer credit, as for a whole-order
    invoice) and releases authorisations never captured."""
    due = invoice.outstanding
    received = (Payment.objects.filter(order=order, status__in=[PaymentStatus.CAPTURED,
                                                                PaymentStatus.REFUNDED])
                .annotate(used=Sum("invoice_payments__amount")).order_by("pk"))
    for paid in received:
        left = paid.captured_amount - paid.refunded_amount - (paid.used or ZERO)
        amount = left if last else min(left, due)
        if amount > 0:
            apply_payment(invoice, amount=amount, method=paid.method, received_on=today,
                          reference=paid.provider_reference, payment=paid, actor=actor)
            due -= min(amount, due)
    for payment in (Payment.objects.filter(order=order, method__in=CARD_METHODS)
                    .order_by("pk")):
        open_auth = payment.status in CARD_ACCEPTED
        rest = payment.amount if open_auth else (
            payment.capturable_rest if payment.is_captured else ZERO)
        if rest <= 0 or (due <= 0 and not (last and open_auth)):
            continue
        try:
            if due <= 0:
                get_provider(payment.provider).void(
                    reference=payment.provider_reference,
                    idempotency_key=f"order:{order.pk}:void:{payment.pk}", actor=actor)
                continue
            # Idempotent per payment and shipment: a replay answers the first capture.
            result = get_provider(payment.provider).capture(
                reference=payment.provider_reference, amount=min(due, rest), partial=True,
                idempotency_key=f"order:{order.pk}:capture:{payment.pk}:{shipment_id}",
                actor=actor)
        except ApplicationError as exc:
            # The invoice is issued anyway; Accounting collects (or voids) by hand.
            logger.warning("invoice: capture or void of payment %s failed: %s", payment.pk,
                           exc.message)
            order_events.capture_failed(order, actor=actor, payment_id=payment.pk,
                                        error=exc.message)
            continue
        apply_payment(invoice, amount=result.amount, method=payment.method, received_on=today,
                      reference=payment.provider_reference, payment=payment, actor=actor)
        due -= result.amount


def _capture_and_apply(order: Order, invoice: Invoice, *, actor: Actor, today: date) -> None:
    """Capture the cards accepted at approval (together never more than the
    invoice total), void the rest, and apply every captured payment of the
    order (prepayments too) to the invoice.

    A payment the gateway held for review is captured like an authorised one:
    the order only ships after a person approved it."""
    captured = (Payment.objects.filter(order=order, status__in=[PaymentStatus.CAPTURED,
                                                                PaymentStatus.REFUNDED],
                                       invoice_payments__isnull=True).order_by("pk"))
    due = invoice.outstanding - sum((p.captured_amount - p.refunded_amount for p in captured),
                                    ZERO)
    for payment in (Payment.objects.filter(order=order, method__in=CARD_METHODS,
                                           status__in=CARD_ACCEPTED).order_by("pk")):
        try:
            if due <= 0:
                # Nothing more is due: release the card instead of turning
                # the money into a credit nobody can refund.
                get_provider(payment.provider).void(
                    reference=payment.provider_reference,
                    idempotency_key=f"order:{order.pk}:void:{payment.pk}", actor=actor)
                continue
            # Idempotent per payment: a re-run of this handler (or a crash
            # after the gateway answered) replays the first capture.
            result = get_provider(payment.provider).capture(
                reference=payment.provider_reference, amount=min(due, payment.amount),
                idempotency_key=f"order:{order.pk}:capture:{payment.pk}", actor=actor)
        except ApplicationError as exc:
            # The invoice is issued anyway; Accounting collects (or voids) by hand.
            logger.warning("invoice: capture or void of payment %s failed: %s", payment.pk,
                           exc.message)
            order_events.capture_failed(order, actor=actor, payment_id=payment.pk,
                                        error=exc.message)
        else:
            due -= result.amount
    for payment in captured.all():
        amount = payment.captured_amount - payment.refunded_amount
        if amount > 0:
            apply_payment(invoice, amount=amount, method=payment.method, received_on=today,
                          reference=payment.provider_reference, payment=payment, actor=actor)


def apply_payment(invoice: Invoice, *, amount: Decimal, method: str, received_on: date,
                  reference: str = "", payment: Payment | None = None,
                  actor: Actor = None) -> InvoicePayment:
    """Record money against a locked invoice; the part beyond what is still
    due becomes customer credit. Runs in the caller's transaction."""
    applied = min(amount, max(invoice.outstanding, ZERO))
    record = InvoicePayment.objects.create(
        invoice=invoice, method=method, amount=amount, applied=applied,
        received_on=received_on, reference=reference, payment=payment,
        actor=actor if getattr(actor, "pk", None) else None)
    if amount > applied:
        CustomerCredit.objects.create(
            customer_id=invoice.customer_id, amount=amount - applied,
            currency=invoice.currency, invoice=invoice, invoice_payment=record,
            reason=_("Overpayment of invoice %(number)s") % {"number": invoice.number or "-"},
            actor=record.actor)
    invoice.receive_payment(applied)
    invoice.save(update_fields=["amount_paid", "status"])
    return record


@dataclass(frozen=True)
class CreditLineInput:
    description: str
    net: Decimal
    tax_rate: Decimal


@dataclass(frozen=True)
class CreditNoteInput:
    """What a credit note corrects, checked once when it is built (by the form,
    or any other caller): ApplicationError with field errors otherwise. The
    rules that need the invoice (its tax rates, the room left) run in
    `issue_credit_note`."""

    reason: str
    lines: tuple[CreditLineInput, ...]

    def __post_init__(self) -> None:
        reason = (self.reason or "").strip()
        errors: dict[str, list[str]] = {}
        if not reason:
            errors["reason"] = [_("Give the reason for the credit note.")]
        if not self.lines:
            errors["lines"] = [_("Add at least one line.")]
        for line in self.lines:
            if not (line.description or "").strip():
                errors.setdefault("description", []).append(_("Describe what is credited."))
            try:
                if to_decimal(line.net) <= 0:
                    raise ValueError
            except (TypeError, ValueError):
                errors.setdefault("net", []).append(_("Enter an amount greater than zero."))
        if errors:
            raise ApplicationError(_("Please correct the credit note."), field_errors=errors)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "lines", tuple(self.lines))


def credit_note_room(invoice: Invoice) -> Decimal:
    """Gross amount that may still be credited on the invoice."""
    credited = invoice.credit_notes.aggregate(total=Sum("total_gross"))["total"] or ZERO
    return invoice.total_gross - credited


def issue_credit_note(*, invoice_id: int, data: CreditNoteInput, actor: Actor,
                      today: date | None = None, submission_key: str | None = None
                      ) -> CreditNote:
    """Correct an issued invoice with a credit note in its own number series.

    The credit settles what is still due on the invoice; any rest (the
    invoice was paid already) becomes customer credit. When the invoice is
    then settled, the order becomes `paid`. `submission_key`: the form's
    one-time key; a second submit with it raises `AlreadySubmitted` and
    issues nothing (a credit note, once numbered, can never be taken back).
    """
    today = today or timezone.localdate()
    with transaction.atomic(durable=True):
        # First, before any lock: a twin submit waits here for this one's commit.
        submission = claim_submission(key=submission_key, purpose=CREDIT_NOTE_SUBMISSION,
                                      actor=actor)
        order, invoice = lock_order_and_invoice(invoice_id)
        note = credit_invoice(order, invoice, data=data, actor=actor, today=today)
        record_submission_result(submission, note.pk)
    return note


def credit_invoice(order: Order, invoice: Invoice, *, data: CreditNoteInput, actor: Actor,
                   today: date) -> CreditNote:
    """Issue a credit note on `invoice` in the caller's transaction, the order
    and the invoice locked (`lock_order_and_invoice`) by the caller. Its number
    is taken near the end and the series stays locked until the caller
    commits: keep what follows short."""
    reason, lines = data.reason, data.lines
    if invoice.number is None:
        raise NotAllowed(_("The invoice is not issued."), code="not_issued")
    rates = set(invoice.tax_rates.values_list("rate", flat=True))
    priced = []
    for line in lines:
        rate = to_decimal(line.tax_rate)
        if rate not in rates:
            message = _("Use a tax rate of the invoice.")
            raise ApplicationError(message, field_errors={"tax_rate": [message]})
        net = quantize_money(to_decimal(line.net))
        priced.append((line.description.strip()[:200], rate, net, tax_amount(net, rate)))
    total_net = sum((p[2] for p in priced), ZERO)
    total_tax = sum((p[3] for p in priced), ZERO)
    gross = total_net + total_tax
    room = credit_note_room(invoice)
    if gross > room:
        message = _("At most %(room)s can still be credited on this invoice.") % {
            "room": money(room, invoice.currency)}
        raise ApplicationError(message, field_errors={"net": [message]})
    note = CreditNote.objects.create(
        series=credit_note_series(), year=today.year, invoice=invoice,
        customer_id=invoice.customer_id, issue_date=today, reason=reason,
        currency=invoice.currency, total_net=total_net, total_tax=total_tax,
        total_gross=gross, issued_by=actor if getattr(actor, "pk", None) else None)
    CreditNoteLine.objects.bulk_create([
        CreditNoteLine(credit_note=note, description=d, tax_rate=r, net=n, tax=t)
        for d, r, n, t in priced])
    # Rendered, stored and e-mailed after commit: a rollback sends nothing.
    outbox.enqueue(CREDIT_NOTE_HANDLER, {"credit_note_id": note.pk},
                   dedup_key=f"billing:credit-note:{note.pk}")
    applied = min(gross, max(invoice.outstanding, ZERO))
    if gross > applied:
        CustomerCredit.objects.create(
            customer_id=invoice.customer_id, amount=gross - applied,
            currency=invoice.currency, invoice=invoice, credit_note=note,
            reason=_("Credit note on the paid invoice %(number)s")
            % {"number": invoice.number}, actor=note.issued_by)
    invoice.receive_credit(applied)
    invoice.save(update_fields=["amount_credited", "status"])
    _number(note)  # last write on billing's tables: gapless credit note numbers
    assert note.number is not None  # _number gave it one
    order_events.credit_note_issued(order, actor=actor, invoice_number=invoice.number,
                                    credit_note_number=note.number, reason=reason)
    _mark_paid_if_settled(order, actor=actor)
    return note


def _mark_paid_if_settled(order: Order, *, actor: Actor = None) -> bool:
    """invoiced -> paid once every invoice of the order is settled."""
    if not can_proceed(order.pay):
        return False
    if Invoice.objects.filter(order=order, status__in=UNSETTLED_STATUSES).exists():
        return False
    order_services.mark_paid(order_id=order.pk, actor=actor)
    return True
