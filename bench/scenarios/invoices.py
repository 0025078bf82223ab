"""Scenario 5: invoice PDFs per second per worker (not yet built).

Invoices and their PDFs come with the fulfilment/billing work that has not
landed. When `billing` has an invoice service and a PDF renderer, `run`
issues one-page and 50-line invoices in one process and reports
PDFs/s against the target; until then the rows say "not yet built".
"""

from __future__ import annotations

from bench.common import Row, Scale

TARGET = ">= 10 one-page PDFs/s per worker"


def run(scale: Scale, ctx: dict) -> list[Row]:
    return [Row(scenario="5", name="invoice PDF, one page", unit="PDFs/s", median=None,
                target=TARGET, status="not yet built"),
            Row(scenario="5", name="invoice PDF, 50 lines", unit="PDFs/s", median=None,
                status="not yet built")]
