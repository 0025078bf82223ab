"""The customer timeline's writers: one function per event kind.

Each writes one `CustomerEvent` in the caller's transaction with the facts in
its payload (amounts as Decimal strings, codes), never prose: the customer
page renders each row in the reader's language (`CustomerEvent.summary`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from customers.models import CREDIT_TERMS_FIELDS, Customer, CustomerEvent, CustomerEventKind
from oms.lib.actors import Actor, actor_id


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def credit_terms_changed(customer: Customer, *, actor: Actor, before: dict[str, Any],
                         after: dict[str, Any]) -> CustomerEvent:
    """Credit limit, payment terms or standing changed: `before`/`after` map
    each changed field (of CREDIT_TERMS_FIELDS) to its value; a new customer's
    `before` is the model default."""
    changes = {name: {"before": _plain(before[name]), "after": _plain(after[name])}
               for name in CREDIT_TERMS_FIELDS if name in after}
    return CustomerEvent.objects.create(customer=customer, kind=CustomerEventKind.CREDIT_TERMS,
                                        actor_id=actor_id(actor), data={"changes": changes})
