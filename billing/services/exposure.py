"""Credit exposure: what a customer on account owes or will owe, in the
currency of its credit limit.

Exposure = open orders on account not yet invoiced (their gross total)
         + what is still due on the unsettled invoices of orders on account
           (gross minus paid minus credited: a part-paid invoice counts
           its balance)
         + the order being decided.
An invoiced order counts through its invoice only, never twice. Amounts in
another currency are converted with the exchange rate of the day
(`oms.currencies`); a missing rate raises `MissingRate` so the caller holds
the order for a person instead of comparing a wrong sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import F, Sum
from django.utils import timezone
from django_fsm import can_proceed

from billing.models import UNSETTLED_STATUSES, Invoice, PaymentMethod
from customers.models import Customer
from oms.currencies import Rates
from oms.lib.money import ZERO
from orders.models import Order

ON_ACCOUNT_METHODS = (PaymentMethod.NET_TERMS, PaymentMethod.BANK_TRANSFER)


@dataclass(frozen=True)
class Exposure:
    """The figures of a credit check, all in `currency` (the limit's) except
    `order_amount`, which is in `order_currency`."""

    currency: str
    limit: Decimal
    open_orders: Decimal
    unpaid_invoices: Decimal
    order: Decimal
    order_amount: Decimal
    order_currency: str

    @property
    def total(self) -> Decimal:
        return self.open_orders + self.unpaid_invoices + self.order

    @property
    def exceeds_limit(self) -> bool:
        return self.total > self.limit


def _in_currency(rows: list[tuple[str, Decimal | None]], currency: str, rates: Rates
                 ) -> Decimal:
    return sum((rates.convert(amount or ZERO, source, currency) for source, amount in rows),
               ZERO)


def open_orders_by_currency(*, customer_id: int, exclude_order_id: int | None = None
                            ) -> list[tuple[str, Decimal | None]]:
    """Gross totals of open orders on account without an invoice, per currency."""
    orders = Order.objects.filter(Order.owing_q(), customer_id=customer_id,
                                  payment_method__in=ON_ACCOUNT_METHODS, invoices__isnull=True)
    if exclude_order_id is not None:
        orders = orders.exclude(pk=exclude_order_id)
    rows: list[tuple[str, Decimal | None]] = list(
        orders.order_by().values("currency").annotate(total=Sum("total_gross"))
        .values_list("currency", "total"))
    # Invoiced shipment by shipment and still shipping: the part not yet
    # invoiced counts here, the invoices below.
    part_invoiced = (Order.objects.filter(Order.owing_q(), customer_id=customer_id,
                                          payment_method__in=ON_ACCOUNT_METHODS,
                                          invoices__shipment_id__isnull=False)
                     .exclude(pk=exclude_order_id or 0).distinct()
                     .annotate(invoiced=Sum("invoices__total_gross")))
    for order in part_invoiced:
        if not can_proceed(order.pay):  # not invoiced in full yet
            rows.append((order.currency, max(order.total_gross - order.invoiced, ZERO)))
    return rows


def unpaid_invoices_by_currency(*, customer_id: int) -> list[tuple[str, Decimal | None]]:
    """What is still due on unsettled invoices of orders on account, per currency."""
    return list(Invoice.objects.filter(customer_id=customer_id, status__in=UNSETTLED_STATUSES,
                                       order__payment_method__in=ON_ACCOUNT_METHODS)
                .order_by().values("currency")
                .annotate(due=Sum(F("total_gross") - F("amount_paid") - F("amount_credited")))
                .values_list("currency", "due"))


def credit_exposure(*, customer: Customer, order: Order, on_date: date | None = None
                    ) -> Exposure:
    """The customer's exposure with `order`, in its credit limit's currency
    (two queries, plus one per currency pair converted)."""
    currency = customer.credit_limit_currency
    rates = Rates(on_date or timezone.localdate())
    return Exposure(
        currency=currency, limit=customer.credit_limit,
        open_orders=_in_currency(open_orders_by_currency(
            customer_id=customer.pk, exclude_order_id=order.pk), currency, rates),
        unpaid_invoices=_in_currency(unpaid_invoices_by_currency(customer_id=customer.pk),
                                     currency, rates),
        order=rates.convert(order.total_gross, order.currency, currency),
        order_amount=order.total_gross, order_currency=order.currency)
