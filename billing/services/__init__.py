"""Writes of billing. A package past ~500 lines; import from `billing.services`.

- `approval`: payment approval of placed orders, the card-retry link, the
  approval queue's decisions, voids.
- `invoicing`: the "order.shipped" handler (capture, invoice, invoiced/paid),
  gapless numbering, credit notes.
- `documents`: the invoice and credit note PDFs and their e-mails.
- `collection`: payments against invoices, customer credit, overdue reminders.
"""

from billing.services.approval import (
    CARD_ACCEPTED,
    CARD_LINK_SALT,
    approve_held_order,
    approve_order_payment,
    card_link_max_age,
    card_link_token,
    check_payment_details,
    decide,
    new_attempt_key,
    order_awaits_card,
    order_id_from_card_link,
    record_payment_received,
    reject_held_order,
    retry_card_payment,
    run_payment_approval,
    void_payment,
    void_payments_of_closed_orders,
)
from billing.services.collection import (
    CREDIT_SUBMISSION,
    MAX_REFERENCE,
    PAYMENT_SUBMISSION,
    RECORDABLE_METHODS,
    InvoicePaymentInput,
    apply_customer_credit,
    record_invoice_payment,
    reminder_level_due,
    reminder_levels,
    send_overdue_reminders,
)
from billing.services.documents import (
    credit_note_pdf_bytes,
    credit_note_pdf_name,
    invoice_pdf_bytes,
    render_invoice_pdf,
    send_credit_note,
)
from billing.services.invoicing import (
    CREDIT_NOTE_HANDLER,
    CREDIT_NOTE_SUBMISSION,
    RENDER_PDF_HANDLER,
    SHIPMENT_HANDLER,
    SHIPPED_HANDLER,
    CreditLineInput,
    CreditNoteInput,
    credit_note_room,
    invoice_shipment,
    invoice_shipped_order,
    invoices_each_shipment,
    issue_credit_note,
    issue_invoice,
)

__all__ = [
    "CARD_ACCEPTED", "CARD_LINK_SALT", "CREDIT_NOTE_HANDLER", "CREDIT_NOTE_SUBMISSION",
    "CREDIT_SUBMISSION", "CreditLineInput", "CreditNoteInput", "InvoicePaymentInput",
    "MAX_REFERENCE", "PAYMENT_SUBMISSION", "RECORDABLE_METHODS", "RENDER_PDF_HANDLER",
    "SHIPMENT_HANDLER", "SHIPPED_HANDLER", "apply_customer_credit", "approve_held_order",
    "approve_order_payment",
    "card_link_max_age", "card_link_token", "check_payment_details", "credit_note_pdf_bytes",
    "credit_note_pdf_name", "credit_note_room", "decide", "invoice_pdf_bytes",
    "invoice_shipment", "invoice_shipped_order", "invoices_each_shipment", "issue_credit_note",
    "issue_invoice", "new_attempt_key",
    "order_awaits_card", "order_id_from_card_link", "record_invoice_payment",
    "record_payment_received", "reject_held_order", "reminder_level_due", "reminder_levels",
    "render_invoice_pdf", "retry_card_payment", "run_payment_approval", "send_credit_note",
    "send_overdue_reminders", "void_payment", "void_payments_of_closed_orders",
]
