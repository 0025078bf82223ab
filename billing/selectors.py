"""Reads of billing: the approval queue, an order's payments, invoices and
accounts receivable (aging buckets and totals per customer, aggregate SQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    UNSETTLED_STATUSES,
    CreditNote,
    CustomerCredit,
    Invoice,
    InvoicePayment,
    InvoiceStatus,
    Payment,
    PaymentTransaction,
    TransactionKind,
    TransactionOutcome,
)
from oms.lib.money import MONEY_DIGITS, MONEY_PLACES
from oms.lib.paging import HasNextPage, has_next_page
from oms.lib.search import Hit
from orders import holds
from orders.models import Order, OrderStatus


def placed_grace() -> timedelta:
    return timedelta(minutes=getattr(settings, "BILLING_QUEUE_PLACED_GRACE_MINUTES", 5))


def approval_queue(*, now: datetime | None = None) -> QuerySet[Order]:
    """Orders waiting for a person's decision, oldest first.

    Every order on hold, plus orders still `placed` after the grace period:
    their automatic approval never finished (provider down, a crash), so a
    person must decide. Payments come prefetched, newest first, for the
    "why" column; `overdue_review`: a review waiting past the managers'
    alert threshold (orders.holds).
    """
    now = now or timezone.now()
    cutoff = now - placed_grace()
    return (
        Order.objects.filter(Order.awaiting_decision_q(placed_before=cutoff))
        .annotate(overdue_review=ExpressionWrapper(
            Q(status=OrderStatus.ON_HOLD, hold_reason__in=holds.REVIEW_HOLDS,
              held_since__lte=now - holds.review_alert_after()),
            output_field=BooleanField()))
        .select_related("customer")
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("-id"),
                                   to_attr="payments_newest_first"))
        .order_by("placed_at", "id")
    )


INVOICE_FILTERS = [InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID,
                   InvoiceStatus.OVERDUE]


def invoice_page(*, status: str = "", query: str = "", page: int = 1, page_size: int = 50,
                 today: date | None = None) -> HasNextPage:
    """Issued invoices, newest first; `status` "overdue" means unsettled and
    past due (derived from the date, never stored)."""
    today = today or timezone.localdate()
    invoices = (Invoice.objects.filter(number__isnull=False)
                .select_related("customer", "order").order_by("-issue_date", "-id"))
    if status == InvoiceStatus.OVERDUE:
        invoices = invoices.filter(status__in=UNSETTLED_STATUSES, due_date__lt=today)
    elif status:
        invoices = invoices.filter(status=status)
    if query:
        invoices = invoices.filter(Q(number__icontains=query) | Q(order__number__icontains=query)
                                   | Q(customer__name__icontains=query)
                                   | Q(customer__email__iexact=query))
    return has_next_page(invoices, page=page, page_size=page_size)


def invoice_detail(*, invoice_id: int) -> Invoice:
    return (Invoice.objects.select_related("customer", "order", "issued_by")
            .prefetch_related("lines", "tax_rates", "payments__actor",
                              Prefetch("credit_notes",
                                       queryset=CreditNote.objects.prefetch_related("lines")),
                              "reminders")
            .get(pk=invoice_id, number__isnull=False))


def card_refunds(*, order_id: int) -> list[PaymentTransaction]:
    """Money paid back to the order's cards (return refunds), oldest first."""
    return list(PaymentTransaction.objects.filter(
        payment__order_id=order_id, kind=TransactionKind.REFUND,
        outcome=TransactionOutcome.SUCCEEDED).order_by("created_at", "id"))


def get_issued_invoice(*, invoice_id: int) -> Invoice:
    return Invoice.objects.get(pk=invoice_id, number__isnull=False)


def get_credit_note(*, credit_note_id: int) -> CreditNote:
    return (CreditNote.objects.select_related("invoice__order", "customer")
            .get(pk=credit_note_id, number__isnull=False))


def invoice_payment(*, invoice_id: int, payment_id: int | None) -> InvoicePayment | None:
    """One payment recorded against the invoice (None: not one of its own)."""
    if payment_id is None:
        return None
    return InvoicePayment.objects.filter(invoice_id=invoice_id, pk=payment_id).first()


def credit_note_of_invoice(*, invoice_id: int, credit_note_id: int | None) -> CreditNote | None:
    if credit_note_id is None:
        return None
    return CreditNote.objects.filter(invoice_id=invoice_id, pk=credit_note_id).first()


def invoices_of_order(*, order_id: int) -> QuerySet[Invoice]:
    return Invoice.objects.filter(order_id=order_id, number__isnull=False).order_by("id")


def payable_invoices_of_order(*, order_id: int) -> list[Invoice]:
    """The order's issued invoices that still owe money, oldest first (the
    customer's page offers to pay them)."""
    return list(invoices_of_order(order_id=order_id).filter(status__in=UNSETTLED_STATUSES))


def invoice_of_order(*, order_id: int, invoice_id: int) -> Invoice | None:
    """One issued invoice, only when it belongs to the order."""
    return invoices_of_order(order_id=order_id).filter(pk=invoice_id).first()


def customer_credit_balance(*, customer_id: int, currency: str | None = None) -> Decimal:
    """What the seller owes the customer (overpayments, credits) less what was used."""
    entries = CustomerCredit.objects.filter(customer_id=customer_id)
    if currency:
        entries = entries.filter(currency=currency)
    return entries.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


_MONEY = DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)


def _outstanding():
    return F("total_gross") - F("amount_paid") - F("amount_credited")


def _bucket_conditions(today: date) -> dict[str, Q]:
    """Days overdue = today - due date; an invoice due today is current."""
    return {
        "current": Q(due_date__gte=today),
        "d1_30": Q(due_date__lt=today, due_date__gte=today - timedelta(days=30)),
        "d31_60": Q(due_date__lt=today - timedelta(days=30),
                    due_date__gte=today - timedelta(days=60)),
        "d61_90": Q(due_date__lt=today - timedelta(days=60),
                    due_date__gte=today - timedelta(days=90)),
        "d90_plus": Q(due_date__lt=today - timedelta(days=90)),
    }


def _bucket_sums(today: date) -> dict:
    sums = {name: Coalesce(Sum(Case(When(condition, then=_outstanding()),
                                    output_field=_MONEY)), Decimal("0.00"), output_field=_MONEY)
            for name, condition in _bucket_conditions(today).items()}
    sums["total"] = Coalesce(Sum(_outstanding(), output_field=_MONEY), Decimal("0.00"),
                             output_field=_MONEY)
    return sums


def unsettled_invoices() -> QuerySet[Invoice]:
    return Invoice.objects.filter(status__in=UNSETTLED_STATUSES, number__isnull=False)


def aging_summary(*, today: date | None = None) -> list[dict]:
    """Outstanding amounts per aging bucket and currency (amounts in different
    currencies are never added up), one aggregate query."""
    today = today or timezone.localdate()
    return list(unsettled_invoices().values("currency")  # type: ignore[arg-type]  # see below
                .annotate(count=Count("id"), **_bucket_sums(today)).order_by("currency"))


def receivables_by_customer(*, today: date | None = None, page: int = 1,
                            page_size: int = 50) -> HasNextPage:
    """Per customer and currency: outstanding per bucket, biggest debt first
    (GROUP BY in SQL, one query per page)."""
    today = today or timezone.localdate()
    rows = (unsettled_invoices().values("customer_id", "customer__name", "currency")
            .annotate(invoices=Count("id"), oldest_due=Min("due_date"), **_bucket_sums(today))
            .order_by("-total", "customer_id"))  # type: ignore[misc]  # **kwargs annotations
    return has_next_page(rows, page=page, page_size=page_size)


def open_invoices(*, today: date | None = None, page: int = 1, page_size: int = 50
                  ) -> HasNextPage:
    """Unsettled invoices, most overdue first, with what is still due."""
    today = today or timezone.localdate()
    rows = (unsettled_invoices().select_related("customer", "order")
            .annotate(outstanding_amount=_outstanding())
            .order_by("due_date", "id"))
    page_rows = has_next_page(rows, page=page, page_size=page_size)
    for invoice in page_rows.object_list:
        invoice.overdue_days = max(0, (today - invoice.due_date).days)
    return page_rows


def invoice_hits(query: str, limit: int) -> list[Hit]:
    """Invoices for the search box, by the beginning of their number."""
    invoices = (Invoice.objects.filter(number__startswith=query.upper())
                .select_related("customer").only("pk", "number", "customer__name")
                .order_by("number")[:limit])
    return [Hit(invoice.number or "", invoice.customer.name,
                reverse("billing:invoice_detail", args=[invoice.pk])) for invoice in invoices]


def invoice_exact(query: str) -> str | None:
    invoice_id = Invoice.objects.filter(number=query.upper()).values_list("pk", flat=True).first()
    return reverse("billing:invoice_detail", args=[invoice_id]) if invoice_id else None


def credit_note_hits(query: str, limit: int) -> list[Hit]:
    """Credit notes for the search box; each opens the invoice it corrects."""
    notes = (CreditNote.objects.filter(number__startswith=query.upper())
             .select_related("customer", "invoice").only(
                 "pk", "number", "customer__name", "invoice__id", "invoice__number")
             .order_by("number")[:limit])
    return [Hit(note.number or "", f"{note.customer.name} · {note.invoice.number}",
                reverse("billing:invoice_detail", args=[note.invoice_id])) for note in notes]


def credit_note_exact(query: str) -> str | None:
    invoice_id = (CreditNote.objects.filter(number=query.upper())
                  .values_list("invoice_id", flat=True).first())
    return reverse("billing:invoice_detail", args=[invoice_id]) if invoice_id else None


CUSTOMER_CARD_INVOICES = 10


def customer_receivables(*, customer_id: int, today: date | None = None) -> dict:
    """The customer card's billing panel: open and overdue balance per
    currency, the customer credit, and the latest invoices (three queries)."""
    today = today or timezone.localdate()
    balances = list(
        unsettled_invoices().filter(customer_id=customer_id).values("currency")
        .annotate(open=Coalesce(Sum(_outstanding(), output_field=_MONEY), Decimal("0.00"),
                                output_field=_MONEY),
                  overdue=Coalesce(Sum(Case(When(due_date__lt=today, then=_outstanding()),
                                            output_field=_MONEY)),
                                   Decimal("0.00"), output_field=_MONEY),
                  invoices=Count("id"))
        .order_by("currency"))
    credit = list(CustomerCredit.objects.filter(customer_id=customer_id).values("currency")
                  .annotate(balance=Sum("amount")).filter(balance__gt=0).order_by("currency"))
    latest = list(Invoice.objects.filter(customer_id=customer_id, number__isnull=False)
                  .select_related("order").annotate(outstanding_amount=_outstanding())
                  .order_by("-issue_date", "-id")[:CUSTOMER_CARD_INVOICES])
    return {"balances": balances, "credit": credit, "invoices": latest}


def credit_note_id_by_number(*, number: str) -> int | None:
    return CreditNote.objects.filter(number=number).values_list("pk", flat=True).first()
