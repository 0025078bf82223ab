"""Documents the customer downloads from their order page (invoices, credit
notes). Apps downstream of orders (billing) register a source in their
`AppConfig.ready`; the page lists and serves only the order's own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from orders.models import Order


@dataclass(frozen=True)
class CustomerDocument:
    kind: str
    pk: int
    label: str  # e.g. "Invoice INV-2026-000001"
    filename: str


@dataclass(frozen=True)
class DocumentSource:
    kind: str
    listing: Callable[[Order], list[CustomerDocument]]
    # The PDF of document `pk` when it belongs to the order, else None.
    content: Callable[[Order, int], bytes | None]


_SOURCES: dict[str, DocumentSource] = {}


def register(source: DocumentSource) -> None:
    _SOURCES[source.kind] = source


def documents_of(order: Order) -> list[CustomerDocument]:
    return [doc for source in _SOURCES.values() for doc in source.listing(order)]


def document_content(order: Order, kind: str, pk: int) -> bytes | None:
    source = _SOURCES.get(kind)
    return source.content(order, pk) if source else None


@dataclass(frozen=True)
class CustomerShipment:
    """A parcel of the order as the customer sees it."""

    number: str
    status: str  # in words, the active language
    carrier: str
    tracking_number: str
    tracking_url: str
    shipped_at: datetime | None
    delivered_at: datetime | None


_SHIPMENTS: list[Callable[[Order], list[CustomerShipment]]] = []


def register_shipments(listing: Callable[[Order], list[CustomerShipment]]) -> None:
    """Filled by fulfillment: the order's parcels that left the warehouse."""
    _SHIPMENTS.append(listing)


def shipments_of(order: Order) -> list[CustomerShipment]:
    return [shipment for listing in _SHIPMENTS for shipment in listing(order)]
