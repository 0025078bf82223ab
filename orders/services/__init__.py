"""Writes of the orders app: placing an order and every later transition;
import them from `orders.services`.

Each service locks the order row (`lock_order`, also for billing and
fulfillment) before it reads its state, calls the FSM transition method,
saves, and writes its event through `orders.events`, all in one
transaction; e-mails and the payment approval go through the outbox. A
set-based sweep moves many orders at once through `bulk_transition`.

Changes before shipment (`change_order`, its preview and `cancel_line_rest`)
live in orders.services.changes.

Stock for waiting lines: `allocate_waiting` (orders.services.allocation)
serves backordered line quantities as stock arrives, in the caller's
transaction; goods receipts, the short pick and the beat task call it.

Transactions: the services use plain `transaction.atomic()`, so a caller may
compose them (the CSV import places every row of a file in one transaction;
billing records a payment and approves in one). Called on their own they are
the outermost transaction. `expire_orders` is an entry point of the beat task
and is durable.

Lock order (keeps approval, cancellation and the expiry sweep deadlock-free):
order row first, then the order's reservations, then stock levels (the last
two inside inventory.api, stock levels in primary-key order).
"""

from orders.inputs import LineInput, PlaceOrder
from orders.services._common import EMAIL_HANDLER, lock_order
from orders.services.allocation import allocate_waiting
from orders.services.change_plan import preview_order_change, register_warehouse_work
from orders.services.changes import cancel_line_rest, change_order
from orders.services.delivery import (
    DeliveredParcel,
    record_parcel_delivered,
    submit_feedback,
)
from orders.services.discount_codes import deactivate_discount_code, save_discount_code
from orders.services.expiry import expire_orders
from orders.services.fulfilment import (
    mark_invoiced,
    mark_packed,
    mark_paid,
    mark_part_shipped,
    mark_shipped,
    record_short_pick,
    start_picking,
)
from orders.services.holds import (
    alert_managers_of_long_reviews,
    send_prepayment_reminders,
)
from orders.services.lines import cancel_backordered_rest
from orders.services.placement import ENTRY_SUBMISSION, place_draft, place_order
from orders.services.price_lists import remove_price, save_price_list, set_price
from orders.services.resend import resend_last_customer_email
from orders.services.templates import (
    delete_order_template,
    place_order_template,
    rename_order_template,
    save_order_template,
    save_template_from_order,
)
from orders.services.transitions import (
    add_note,
    allocate_backorder,
    allocate_backorders,
    approve_order,
    cancel_order,
    change_hold_reason,
    hold_order,
    reject_order,
)

__all__ = [
    "DeliveredParcel",
    "EMAIL_HANDLER",
    "ENTRY_SUBMISSION",
    "LineInput",
    "PlaceOrder",
    "add_note",
    "alert_managers_of_long_reviews",
    "allocate_backorder",
    "allocate_backorders",
    "allocate_waiting",
    "approve_order",
    "cancel_backordered_rest",
    "cancel_line_rest",
    "change_order",
    "cancel_order",
    "record_parcel_delivered",
    "submit_feedback",
    "change_hold_reason",
    "deactivate_discount_code",
    "expire_orders",
    "hold_order",
    "lock_order",
    "mark_invoiced",
    "mark_packed",
    "mark_paid",
    "mark_part_shipped",
    "mark_shipped",
    "place_draft",
    "place_order",
    "preview_order_change",
    "record_short_pick",
    "register_warehouse_work",
    "reject_order",
    "resend_last_customer_email",
    "send_prepayment_reminders",
    "remove_price",
    "save_discount_code",
    "save_price_list",
    "set_price",
    "start_picking",
    "delete_order_template",
    "place_order_template",
    "rename_order_template",
    "save_order_template",
    "save_template_from_order",
]
