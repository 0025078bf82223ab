"""Discounts and the shipping charge through billing: the approval holds
manual discounts above the limit for a manager; the invoice and the credit
note show the discounts, the invoice carries the charge line."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from billing import services
from billing.models import Invoice
from billing.services import approve_order_payment
from oms.lib.errors import Forbidden
from orders.models import DiscountCode, HoldReason, ShippingRate
from tests.billing.invoicing_support import ship, terms_customer
from tests.factories.billing import net_terms
from tests.factories.orders import make_order, stocked_product

pytestmark = pytest.mark.django_db

D = Decimal


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _approved(order):
    approve_order_payment(order_id=order.pk, payment=net_terms(), actor=None)
    order.refresh_from_db()
    return order


def test_discounts_above_the_sales_limit_hold_the_order_for_a_manager(make_user):
    sales = make_user("Sales")
    lamp = stocked_product(unit_price=D("100.00"))
    order = _approved(make_order(customer=terms_customer(), lines=[(lamp, 1)], actor=sales,
                                 payment=net_terms(), discount="15%"))
    assert order.is_held_for(HoldReason.DISCOUNT_LIMIT)
    assert order.hold_note == ("Discounts of €15.00 given by hand exceed the €10.00 the "
                               "person who entered the order may give: a manager approves it.")
    assert order.events.last().summary == order.hold_note
    # Sales (and Accounting) approve held orders, but not this one.
    for role in ("Sales", "Accounting"):
        with pytest.raises(Forbidden):
            services.approve_held_order(order_id=order.pk,
                                        actor=make_user(role, username=f"{role}-2"))
    services.approve_held_order(order_id=order.pk, actor=make_user("Manager"))
    order.refresh_from_db()
    assert order.status == "reserved"


def test_discounts_within_the_limit_are_approved_as_usual(make_user):
    lamp = stocked_product(unit_price=D("100.00"))
    DiscountCode.objects.create(code="BIG", value=D("50"), currency="EUR")
    order = _approved(make_order(customer=terms_customer(), lines=[(lamp, 1)],
                                 actor=make_user("Sales"), payment=net_terms(),
                                 discount="10%", discount_code="BIG"))
    assert order.status == "reserved"
    assert order.discount_total == D("55.00")


def test_the_invoice_copies_the_discounted_lines_and_the_shipping_charge(
        make_user, django_capture_on_commit_callbacks):
    ShippingRate.objects.create(currency="EUR", price=D("6.90"), label="Standard parcel")
    DiscountCode.objects.create(code="LOYAL5", kind="amount", value=D("5.00"), currency="EUR")
    lamp = stocked_product(sku="LAMP-9", name="Desk lamp", unit_price=D("40.00"),
                           tax_rate=D("20.00"))
    book = stocked_product(sku="BOOK-9", name="Garden book", unit_price=D("12.50"),
                           tax_rate=D("5.50"))
    # 5.00 off 80.00 + 25.00 of goods: 3.81 and 1.19 (to the cent, in proportion).
    order = _approved(make_order(customer=terms_customer(), lines=[(lamp, 2), (book, 2)],
                                 actor=make_user("Sales"), payment=net_terms(),
                                 discount_code="LOYAL5"))
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    invoice = Invoice.objects.get(order=order)
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (
        order.total_net, order.total_tax, order.total_gross)
    lines = list(invoice.lines.order_by("position"))
    assert [(line.sku, line.description, line.net, line.discount) for line in lines] == [
        ("LAMP-9", "Desk lamp", D("76.19"), D("3.81")),
        ("BOOK-9", "Garden book", D("23.81"), D("1.19")),
        ("", "Standard parcel", D("6.90"), D("0.00"))]
    assert lines[2].tax_rate == D("20.00")
    assert invoice.discount_total == D("5.00")
    text = _pdf_text(default_storage.open(invoice.pdf_path, "rb").read())
    for expected in ("Less discount €3.81", "Less discount €1.19", "Standard parcel",
                     "Discounts included (code LOYAL5)", "€5.00"):
        assert expected in text, (expected, text)

    note = services.issue_credit_note(
        invoice_id=invoice.pk, actor=None, data=services.CreditNoteInput(
            reason="Scratched", lines=(services.CreditLineInput(
                description="Refund", net=D("10.00"), tax_rate=D("20.00")),)))
    text = _pdf_text(services.credit_note_pdf_bytes(note))
    assert "DISCOUNTS ON THE INVOICE" in text and "€5.00 (code LOYAL5)" in text, text
