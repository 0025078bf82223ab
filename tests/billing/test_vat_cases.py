"""EU VAT end to end, one row per case: the order's VAT decision and totals,
and the invoice and credit note PDFs read back for rates, amounts and the
legal mentions (directive 2006/112/EC art. 226, French B2B mentions)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from billing import services
from billing.models import Invoice
from billing.services.documents import credit_note_pdf_bytes
from inventory.models import VatRate
from tests.billing.invoicing_support import ship, terms_customer
from tests.factories.billing import net_terms
from tests.factories.customers import address_data
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

REVERSE_CHARGE = "Art. 196 of Council Directive 2006/112/EC"
EXPORT = "Art. 146 of Council Directive 2006/112/EC"
LATE_PAYMENT = "Late-payment penalties: 3 times the French legal interest rate"
INDEMNITY = "Fixed indemnity for recovery costs in case of late payment: €40.00"


@dataclass(frozen=True)
class Case:
    id: str
    country: str
    reason: str
    # rate -> (taxable amount, tax) as the invoice lists them
    by_rate: dict[str, tuple[str, str]]
    tax: str
    gross: str
    currency: str = "EUR"
    kind: str = "person"
    vat_id: str = ""
    threshold_passed: bool = False
    # Texts the invoice must show (after the common ones) and must not show.
    shows: list[str] = field(default_factory=list)
    hides: list[str] = field(default_factory=list)


# 1 lamp at 39.90 (standard, 20 % in France) and 2 books at 12.50 (reduced,
# 5.5 % in France): net 64.90.
CASES = [
    Case("domestic-b2c", "FR", "domestic", {"5.50": ("25.00", "1.38"), "20.00": ("39.90", "7.98")},
         tax="9.36", gross="74.26", shows=["VAT 20 %", "VAT 5.50 %", "Domestic sale"],
         hides=[REVERSE_CHARGE, EXPORT, LATE_PAYMENT]),
    Case("domestic-b2b", "FR", "domestic", {"5.50": ("25.00", "1.38"), "20.00": ("39.90", "7.98")},
         tax="9.36", gross="74.26", kind="company", vat_id="FR40303265045",
         shows=["FR40303265045", LATE_PAYMENT, INDEMNITY], hides=[REVERSE_CHARGE]),
    Case("eu-b2c-below-threshold", "DE", "distance_origin",
         {"5.50": ("25.00", "1.38"), "20.00": ("39.90", "7.98")}, tax="9.36", gross="74.26",
         shows=["Distance sale taxed in the seller's country"], hides=[REVERSE_CHARGE]),
    Case("eu-b2c-past-threshold", "DE", "distance_destination",
         {"7.00": ("25.00", "1.75"), "19.00": ("39.90", "7.58")}, tax="9.33", gross="74.23",
         threshold_passed=True,
         shows=["VAT 19 %", "VAT 7 %", "Distance sale taxed in the destination country"],
         hides=["VAT 20 %"]),
    Case("eu-b2b-reverse-charge", "BE", "reverse_charge", {"0.00": ("64.90", "0.00")},
         tax="0.00", gross="64.90", kind="company", vat_id="BE 0123.456.749",
         shows=["BE0123456749", "VAT 0 %", REVERSE_CHARGE, LATE_PAYMENT, INDEMNITY],
         hides=["VAT 20 %"]),
    # A company with no VAT id buys as a consumer does.
    Case("eu-company-without-vat-id", "BE", "distance_origin",
         {"5.50": ("25.00", "1.38"), "20.00": ("39.90", "7.98")}, tax="9.36", gross="74.26",
         kind="company", hides=[REVERSE_CHARGE]),
    Case("export-ch", "CH", "export", {"0.00": ("64.90", "0.00")}, tax="0.00", gross="64.90",
         shows=["VAT 0 %", EXPORT], hides=[REVERSE_CHARGE]),
    Case("export-us-usd", "US", "export", {"0.00": ("64.90", "0.00")}, tax="0.00",
         gross="64.90", currency="USD", shows=["$64.90", EXPORT]),
    Case("export-gb-gbp", "GB", "export", {"0.00": ("64.90", "0.00")}, tax="0.00",
         gross="64.90", currency="GBP", kind="company", vat_id="",
         shows=["£64.90", EXPORT], hides=[REVERSE_CHARGE]),
]


@pytest.fixture(autouse=True)
def rates():
    """The destination rates the cases use (also seeded by the migration)."""
    for country, category, rate in [("DE", "standard", "19"), ("DE", "reduced", "7"),
                                    ("BE", "standard", "21"), ("BE", "reduced", "6"),
                                    ("FR", "standard", "20"), ("FR", "reduced", "5.5")]:
        VatRate.objects.update_or_create(country=country, category=category,
                                         defaults={"rate": Decimal(rate)})


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _lines():
    lamp = stocked_product(sku="LAMP-1", name="Desk lamp", unit_price=Decimal("39.90"),
                           tax_rate=Decimal("20.00"))
    book = stocked_product(sku="BOOK-1", name="Garden handbook", unit_price=Decimal("12.50"),
                           tax_rate=Decimal("5.50"), tax_category="reduced")
    return [(lamp, 1), (book, 2)]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_vat_case_totals_and_invoice_and_credit_note_pdfs(case, settings,
                                                          django_capture_on_commit_callbacks):
    settings.VAT_DISTANCE_SELLING_THRESHOLD_PASSED = case.threshold_passed
    # A customer abroad has its credit limit in the currency it buys in.
    customer = terms_customer(kind=case.kind, vat_id=case.vat_id.replace(" ", "").replace(".", ""),
                              credit_limit_currency=case.currency)
    order = make_order(customer=customer, lines=_lines(), payment=net_terms(),
                       currency=case.currency,
                       shipping_address=address_data(name=customer.name, country=case.country))

    assert order.vat_reason == case.reason
    assert (order.total_net, order.total_tax, order.total_gross) == (
        Decimal("64.90"), Decimal(case.tax), Decimal(case.gross))
    assert order.vat_destination_country == case.country and order.vat_seller_country == "FR"

    services.approve_order_payment(order_id=order.pk, payment=net_terms(), actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    invoice = Invoice.objects.get(order=order)
    assert {str(r.rate): (str(r.net), str(r.tax)) for r in invoice.tax_rates.all()} \
        == case.by_rate
    assert invoice.vat_reason == case.reason
    with default_storage.open(invoice.pdf_path, "rb") as handle:
        text = _text(handle.read())
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}[case.currency]
    # Art. 226: number, dates, both parties, seller's VAT id, lines, rate,
    # taxable amount and tax per rate, totals; the seller's registration.
    common = [invoice.number, "ISSUE DATE", "SUPPLY DATE", "Desk lamp", "Garden handbook",
              "OMS Trading SARL", "FR00123456789", customer.name, "RCS Paris 123 456 789",
              "SARL au capital de 50 000 €", f"{symbol}39.90", f"{symbol}64.90",
              f"{symbol}{case.tax}", f"{symbol}{case.gross}"]
    for expected in common + case.shows:
        assert expected in text, (expected, text)
    for unexpected in case.hides:
        assert unexpected not in text, (unexpected, text)

    rate, (net, _tax) = next(iter(case.by_rate.items()))
    note = services.issue_credit_note(
        invoice_id=invoice.pk, actor=None, data=services.CreditNoteInput(
            reason="Scratched lid", lines=(services.CreditLineInput(
                description="Refund", net=Decimal("10.00"), tax_rate=Decimal(rate)),)))
    note_text = _text(credit_note_pdf_bytes(note))
    for expected in [note.number, invoice.number, "FR00123456789", "RCS Paris 123 456 789",
                     f"{symbol}10.00"] + [m for m in (REVERSE_CHARGE, EXPORT) if m in case.shows]:
        assert expected in note_text, (expected, note_text)
