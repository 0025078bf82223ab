"""Billing: payments of orders, invoices, credit notes and receivables.

A package (`payments`, `invoices`, `credit_notes`, `collection`); import
every name from `billing.models`. billing owns payment approval, invoices,
credit notes and receivables. It may import `orders` (models, services, selectors) and
drives the order's approval transitions; `orders` never imports billing and
reaches it only through `orders.payments.register_payment_approver`.

Invoicing and collection: an `Invoice` is issued when an order ships, with
lines and a tax summary per rate frozen at issue; `CreditNote`s correct it;
`InvoicePayment`s settle it (overpayments become `CustomerCredit`);
`Reminder`s chase it once per level when it is overdue. Numbers come from
`DocumentCounter`, one locked row per series and year.

A `Payment` is one attempt to get an order paid (one card authorisation, one
expected bank transfer, one purchase on account). Every operation a provider
runs on it (authorise, capture, void, refund) is a `PaymentTransaction` row,
unique per (provider, idempotency key): that row is how a provider answers
a repeated call with the first result instead of charging twice.
Only the last four digits and the brand of a card are ever stored.
"""

from billing.models.collection import CustomerCredit, InvoicePayment, Reminder, SettlementMethod
from billing.models.credit_notes import CreditNote, CreditNoteLine
from billing.models.invoices import (
    UNSETTLED_STATUSES,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTaxRate,
    format_document_number,
)
from billing.models.payments import (
    OPEN_STATUSES,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionOutcome,
)

__all__ = ["OPEN_STATUSES", "UNSETTLED_STATUSES", "CreditNote",
           "CreditNoteLine", "CustomerCredit", "DocumentCounter", "Invoice", "InvoiceLine",
           "InvoicePayment", "InvoiceStatus", "InvoiceTaxRate", "Payment", "PaymentMethod",
           "PaymentStatus", "PaymentTransaction", "Reminder", "SettlementMethod",
           "TransactionKind", "TransactionOutcome", "format_document_number"]
