"""The purchase order PDF (read back with pypdf) and the e-mail that takes it
to the supplier after the sending transaction commits."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from inventory.purchasing import services
from inventory.purchasing.documents import purchase_order_pdf, send_to_supplier
from oms.models import OutboxMessage
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tests.factories.purchasing import SupplierFactory, SupplierProductFactory, purchase_order

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    # Joined without line breaks: a narrow column may wrap a word.
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages
                   ).replace("\n", "")


@pytest.fixture
def po():
    supplier = SupplierFactory(name="Acme Tools", email="sales@acme.example")
    offer = SupplierProductFactory(supplier=supplier, supplier_sku="ACME-HAMMER",
                                   unit_cost=Decimal("4.20"),
                                   product=ProductFactory(sku="OUR-HAMMER", name="Hammer"))
    return purchase_order(supplier, WarehouseFactory(code="LYO", name="Lyon depot"),
                          [(offer.product, 12)], send=False)


def test_the_pdf_names_both_skus_quantities_costs_and_the_total(po):
    text = _text(purchase_order_pdf(purchase_order_id=po.pk))
    for expected in (po.number, "Acme Tools", "ACME-HAMMER", "OUR-HAMMER", "Hammer", "12",
                     "€4.20", "€50.40", "Lyon depot", "Deliver by"):
        assert expected in text, (expected, text)


def test_the_pdf_is_in_the_suppliers_language(po):
    po.supplier.language = "fr"
    po.supplier.save()
    text = _text(purchase_order_pdf(purchase_order_id=po.pk))
    # Amounts and dates as a French reader writes them.
    assert "50,40" in text and "€50.40" not in text


def test_sending_emails_the_pdf_to_the_supplier_once(po, mailoutbox,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.send_purchase_order(purchase_order_id=po.pk, actor=None)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["sales@acme.example"]
    assert po.number in mail.subject
    (name, content, mimetype), = mail.attachments
    assert name == f"{po.number}.pdf" and mimetype == "application/pdf"
    assert "ACME-HAMMER" in _text(content)
    po.refresh_from_db()
    assert po.pdf_path.endswith(f"{po.number}.pdf")
    assert po.events.filter(kind="email").count() == 1
    # A re-run of the same outbox row (a crash after SMTP) sends nothing new.
    message = OutboxMessage.objects.get(handler="inventory.send_purchase_order")
    send_to_supplier({**message.payload, "outbox_message_id": message.pk})
    assert len(mailoutbox) == 1
