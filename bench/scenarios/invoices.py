"""Scenario 5: invoice PDFs per second per worker process.

Two orders are placed through `orders.services.place_order` (1 line and 50
lines) and invoiced with `billing.services.invoicing.issue_invoice` (the
product's own path for the data). Then one process renders each invoice's
PDF repeatedly with `billing.services.documents.invoice_pdf_bytes` (the
template, WeasyPrint with the restricted fetcher: what the outbox handler
does before storing the file and queueing the e-mail): PDFs per second
= 1 / median seconds per PDF. On a tree without invoicing the rows read
"not yet built".
"""

from __future__ import annotations

import time

from bench.common import APPROVED_CARD, Row, Scale, address, build_catalogue, median, percentile

TARGET = ">= 10 one-page PDFs/s per worker"


def _invoice(lines: int, skus: list[str]):
    from customers.models import Customer
    from orders.payments import PaymentDetails
    from orders.services import LineInput, PlaceOrder, place_order

    customer = Customer.objects.order_by("pk").first()
    order = place_order(PlaceOrder.parse({
        "customer": customer, "lines": [LineInput(sku=sku, quantity=1) for sku in skus[:lines]],
        "channel": "web", "currency": "EUR", "shipping_address": address(customer.name),
        "payment": PaymentDetails(method="card", card_number=APPROVED_CARD)}), actor=None)
    from billing.services.invoicing import issue_invoice

    return issue_invoice(order_id=order.pk, actor=None)


def run(scale: Scale, ctx: dict) -> list[Row]:
    try:
        from billing.services.documents import invoice_pdf_bytes
        from billing.services.invoicing import issue_invoice  # noqa: F401
    except ImportError:
        return [Row(scenario="5", name="invoice PDF, one page", unit="PDFs/s", median=None,
                    target=TARGET, status="not yet built"),
                Row(scenario="5", name="invoice PDF, 50 lines", unit="PDFs/s", median=None,
                    status="not yet built")]
    catalogue = build_catalogue(products=60, customers=2)
    repeats = {"tiny": 2, "small": 10, "full": 20}.get(scale.name, 10)
    rows = []
    for lines, label, target in [(1, "invoice PDF, one page", TARGET),
                                 (50, "invoice PDF, 50 lines", "")]:
        invoice = _invoice(lines, catalogue.skus)
        invoice_pdf_bytes(invoice)  # warm: fonts, templates
        seconds, sizes = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            pdf = invoice_pdf_bytes(invoice)
            seconds.append(time.perf_counter() - started)
            sizes.append(len(pdf))
        rate = 1 / median(seconds)
        rows.append(Row(scenario="5", name=label, unit="PDFs/s", median=rate,
                        p95=1 / percentile(seconds, 95), runs=repeats, target=target,
                        met=(rate >= 10) if target else None,
                        extra={"latency_ms_p50": median(seconds) * 1000,
                               "latency_ms_p95": percentile(seconds, 95) * 1000,
                               "pdf_bytes": max(sizes), "starts_with_pdf": pdf[:4] == b"%PDF",
                               "note": "p95 column: the rate at the p95 rendering time"}))
    return rows
