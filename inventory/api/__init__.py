"""What other apps call to reserve, confirm, release and consume stock.

Takes plain data (ids, quantities) and returns plain dataclasses; never
imports `orders`. Every function runs in `transaction.atomic()` (a savepoint
inside the caller's transaction), so it joins the order service's
transaction and rolls back with it.

Locking rule (the one that keeps this deadlock-free): StockLevel rows are
always locked with SELECT ... FOR UPDATE in primary-key order, in one
statement, before they are changed. Reservation rows of one order are locked
before its stock levels. The expiry sweep skips reservation rows that are
locked and then locks stock levels in primary-key order as well.
"""

from inventory.api.allocation import Allocation, WaitingLine, reserve_available
from inventory.api.catalogue import (
    availability,
    products_by_sku,
    vat_rates,
    vat_rates_column,
    vat_rates_from_column,
)
from inventory.api.holds import (
    confirm,
    expire_lapsed_holds,
    hold_minutes_default,
    release,
    release_units,
    reserve,
    set_hold_expiry,
)
from inventory.api.incoming import Incoming, covering_date, incoming
from inventory.api.movements import consume, receive_purchased, return_stock, write_off_short_pick
from inventory.api.types import (
    InsufficientStock,
    LineRequest,
    ProductInfo,
    Shortage,
)

__all__ = [
    "Allocation",
    "Incoming",
    "InsufficientStock",
    "LineRequest",
    "ProductInfo",
    "Shortage",
    "WaitingLine",
    "availability",
    "confirm",
    "consume",
    "covering_date",
    "expire_lapsed_holds",
    "hold_minutes_default",
    "incoming",
    "products_by_sku",
    "receive_purchased",
    "release",
    "release_units",
    "reserve",
    "reserve_available",
    "return_stock",
    "set_hold_expiry",
    "write_off_short_pick",
    "vat_rates",
    "vat_rates_column",
    "vat_rates_from_column",
]
