"""Each shipment invoiced when it leaves (BILLING_INVOICE_EACH_SHIPMENT):
two shipments of one order give two invoices that together are the order,
each with its VAT, its delivery note on the PDF and its own card capture;
the handler run twice issues one invoice; the last one makes the order
invoiced (paid when settled); a cancelled backordered rest is never
invoiced; with the setting off the order is invoiced once, as before."""

from __future__ import annotations

import io
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from billing.models import Invoice, InvoicePayment, Payment, PaymentTransaction
from billing.services import approve_order_payment, invoice_shipment
from billing.services.exposure import open_orders_by_currency, unpaid_invoices_by_currency
from fulfillment import services
from fulfillment.models import Shipment
from oms.models import OutboxMessage
from orders.models import DiscountCode, OrderStatus, ShippingRate
from orders.services import allocate_waiting, cancel_backordered_rest
from tests.billing.invoicing_support import terms_customer
from tests.billing.test_browser import log_in
from tests.billing.test_invoice_browser import SCREENSHOTS
from tests.factories.billing import card, net_terms
from tests.factories.customers import CustomerFactory
from tests.factories.fulfillment import CarrierServiceFactory, shelved_product
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import make_order
from tests.orders.allocation_support import assert_books_balance

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


@pytest.fixture
def main():
    return WarehouseFactory(code="MAIN")


@pytest.fixture
def each_shipment(settings):
    settings.BILLING_INVOICE_EACH_SHIPMENT = True


def _pdf_text(invoice: Invoice) -> str:
    data = default_storage.open(invoice.pdf_path, "rb").read()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _ship_ready_part(order, warehouse, tracking):
    pick_list = services.create_pick_list(warehouse_id=warehouse.pk, order_ids=[order.pk],
                                          actor=None)
    for line in pick_list.lines.all():
        services.confirm_pick(pick_list_id=pick_list.pk,
                              data=services.PickScan(sku=line.sku, quantity=line.quantity),
                              actor=None)
    services.complete_pick_list(pick_list_id=pick_list.pk, actor=None)
    shipment = services.pack(order_id=order.pk, warehouse_id=warehouse.pk,
                             data=services.Packing.parse(package_type="box", weight="1"),
                             actor=None)
    return services.ship(shipment_id=shipment.pk, actor=None, data=services.Handover(
        carrier_service=CarrierServiceFactory(), tracking_number=tracking))


def _two_part_order(main, *, paid_by_card: bool = True):
    """A lamp (20 % VAT) in stock, two books (5.5 %) that arrive later, a
    5.00 discount code and a 6.90 shipping charge."""
    ShippingRate.objects.create(currency="EUR", price=D("6.90"), label="Standard parcel")
    DiscountCode.objects.create(code="LOYAL5", kind="amount", value=D("5.00"), currency="EUR")
    lamp = shelved_product(main, 2, bin_code="A-1", sku="LAMP-9", name="Desk lamp",
                           unit_price=D("40.00"), tax_rate=D("20.00"))
    book = shelved_product(main, 0, bin_code="A-2", sku="BOOK-9", name="Garden book",
                           unit_price=D("12.50"), tax_rate=D("5.50"))
    if paid_by_card:
        customer = CustomerFactory(accepts_backorder=True, ship_complete=False)
    else:
        customer = terms_customer(accepts_backorder=True, ship_complete=False)
    payment = card() if paid_by_card else net_terms()
    order = make_order(customer=customer, lines=[(lamp, 2), (book, 2)],
                       discount_code="LOYAL5", payment=payment)
    order.refresh_from_db()
    if order.status == OrderStatus.PLACED:
        approve_order_payment(order_id=order.pk, payment=payment, actor=None)
        order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED, order.status  # the lamps
    return order, book


def _books_arrive(book, main):
    stock(book, main, 2)
    with transaction.atomic():
        allocate_waiting(product_ids=[book.pk], actor=None)


def test_each_shipment_is_invoiced_for_its_units_and_the_invoices_make_the_order(
        main, each_shipment, mailoutbox):
    order, book = _two_part_order(main)
    first_shipment = _ship_ready_part(order, main, "T-1")
    first = Invoice.objects.get(order=order)
    # The lamps, 3.81 of the 5.00 discount (in proportion), the shipping charge.
    assert [(line.sku, line.quantity, line.net, line.discount)
            for line in first.lines.order_by("position")] == [
        ("LAMP-9", 2, D("76.19"), D("3.81")), ("", 1, D("6.90"), D("0.00"))]
    assert list(first.tax_rates.values_list("rate", "net", "tax")) == [
        (D("20.00"), D("83.09"), D("16.62"))]
    assert (first.shipment_id, first.shipment_number) == (first_shipment.pk,
                                                          first_shipment.number)
    # The delivery note's date in the company's time zone (Paris), not UTC's.
    assert first.shipment_date == timezone.localdate(first_shipment.shipped_at)
    assert first.is_settled  # the card paid its part
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED  # the books still wait

    _books_arrive(book, main)
    second_shipment = _ship_ready_part(order, main, "T-2")
    second = Invoice.objects.exclude(pk=first.pk).get(order=order)
    assert [(line.sku, line.quantity, line.net, line.discount)
            for line in second.lines.all()] == [("BOOK-9", 2, D("23.81"), D("1.19"))]
    assert list(second.tax_rates.values_list("rate", "net", "tax")) == [
        (D("5.50"), D("23.81"), D("1.31"))]
    assert second.shipment_number == second_shipment.number
    # Numbered one after the other in the gapless series.
    assert second.sequence == first.sequence + 1
    order.refresh_from_db()
    assert first.total_net + second.total_net == order.total_net
    assert first.total_tax + second.total_tax == order.total_tax
    assert first.total_gross + second.total_gross == order.total_gross
    assert order.status == OrderStatus.PAID  # the last invoice, settled by the card

    text = _pdf_text(second)
    for expected in ("DELIVERY NOTE", second_shipment.number, "Garden book",
                     "Less discount €1.19"):
        assert expected in text, (expected, text)
    assert "Desk lamp" not in text and "Standard parcel" not in text
    assert first_shipment.number in _pdf_text(first)
    mails = [m for m in mailoutbox if m.subject.startswith("Your invoice")]
    assert len(mails) == 2
    assert second_shipment.number in mails[-1].body
    assert mails[-1].attachments[0][0] == f"{second.number}.pdf"
    assert_books_balance()


def test_the_card_is_captured_once_per_shipment_for_its_invoice(main, each_shipment):
    order, book = _two_part_order(main)
    _ship_ready_part(order, main, "T-1")
    _books_arrive(book, main)
    _ship_ready_part(order, main, "T-2")
    payment = Payment.objects.get(order=order)
    invoices = list(Invoice.objects.filter(order=order).order_by("pk"))
    captures = list(PaymentTransaction.objects.filter(payment=payment, kind="capture")
                    .order_by("pk").values_list("amount", flat=True))
    assert captures == [invoice.total_gross for invoice in invoices]
    assert payment.captured_amount == order.total_gross == payment.amount
    assert [(p.invoice_id, p.amount) for p in InvoicePayment.objects.order_by("pk")] == [
        (invoice.pk, invoice.total_gross) for invoice in invoices]


def test_the_handler_run_again_issues_no_second_invoice(main, each_shipment):
    order, _book = _two_part_order(main)
    shipment = _ship_ready_part(order, main, "T-1")
    (message,) = OutboxMessage.objects.filter(handler="billing.invoice_shipment")
    counted = PaymentTransaction.objects.count()
    with transaction.atomic():  # the outbox runner's transaction
        again = invoice_shipment(order_id=order.pk, shipment_id=shipment.pk,
                                 shipment_number=shipment.number, shipped_on=date.today(),
                                 lines={int(k): v for k, v in message.payload["lines"].items()},
                                 actor=None)
    assert again == Invoice.objects.get(order=order)
    assert PaymentTransaction.objects.count() == counted  # no second capture
    # Another shipment claiming the same units finds nothing left to invoice.
    with transaction.atomic():
        assert invoice_shipment(order_id=order.pk, shipment_id=shipment.pk + 1000,
                                shipment_number="X", shipped_on=date.today(),
                                lines={int(k): v for k, v in message.payload["lines"].items()},
                                actor=None) is None
    assert Invoice.objects.filter(order=order).count() == 1


def test_a_cancelled_backordered_rest_is_never_invoiced(main, each_shipment):
    order, book = _two_part_order(main)
    _ship_ready_part(order, main, "T-1")
    order = cancel_backordered_rest(order_id=order.pk,
                                    line_id=order.lines.get(product=book).pk, actor=None)
    order.refresh_from_db()
    # Everything that left is invoiced: the order is invoiced (paid by the card).
    assert order.status == OrderStatus.PAID
    (invoice,) = Invoice.objects.filter(order=order)
    assert not invoice.lines.filter(sku="BOOK-9").exists()
    assert Payment.objects.get(order=order).captured_amount == invoice.total_gross


def test_on_net_terms_the_order_is_invoiced_after_its_last_shipment(main, each_shipment):
    order, book = _two_part_order(main, paid_by_card=False)
    _ship_ready_part(order, main, "T-1")
    # Credit exposure counts the first invoice, and the rest of the order once.
    (first,) = Invoice.objects.filter(order=order)
    order.refresh_from_db()
    assert open_orders_by_currency(customer_id=order.customer_id) == [
        ("EUR", order.total_gross - first.total_gross)]
    assert unpaid_invoices_by_currency(customer_id=order.customer_id) == [
        ("EUR", first.total_gross)]
    _books_arrive(book, main)
    _ship_ready_part(order, main, "T-2")
    order.refresh_from_db()
    assert order.status == OrderStatus.INVOICED
    assert Invoice.objects.filter(order=order, status="open").count() == 2
    assert order.events.filter(kind="status_changed", to_status="invoiced").count() == 1
    assert open_orders_by_currency(customer_id=order.customer_id) == []


def test_with_the_setting_off_the_order_is_invoiced_once_at_the_end(main):
    order, book = _two_part_order(main)
    _ship_ready_part(order, main, "T-1")
    assert not Invoice.objects.filter(order=order).exists()
    _books_arrive(book, main)
    _ship_ready_part(order, main, "T-2")
    (invoice,) = Invoice.objects.filter(order=order)
    order.refresh_from_db()
    assert invoice.shipment_id is None and invoice.shipment_number == ""
    assert invoice.total_gross == order.total_gross
    assert order.status == OrderStatus.PAID
    assert Shipment.objects.filter(order=order, status="shipped").count() == 2


@pytest.mark.browser
def test_the_invoice_and_order_pages_name_each_invoice_s_delivery_note(
        main, each_shipment, page: Page, live_server, make_user):
    order, book = _two_part_order(main, paid_by_card=False)
    first_shipment = _ship_ready_part(order, main, "T-1")
    _books_arrive(book, main)
    second_shipment = _ship_ready_part(order, main, "T-2")
    first, second = Invoice.objects.filter(order=order).order_by("pk")
    log_in(page, live_server, make_user("Accounting").username)

    page.goto(f"{live_server.url}/orders/{order.pk}/")
    panel = page.locator("[aria-labelledby='invoices-title']")
    expect(panel).to_contain_text(f"delivery note {first_shipment.number}")
    expect(panel).to_contain_text(f"delivery note {second_shipment.number}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "order-invoices-per-shipment.png"), full_page=True)

    panel.get_by_role("link", name=second.number).click()
    expect(page.get_by_role("heading", name=f"Invoice {second.number}")).to_be_visible()
    expect(page.locator(".lead")).to_contain_text(f"delivery note {second_shipment.number}")
    page.screenshot(path=str(SCREENSHOTS / "invoice-per-shipment.png"), full_page=True)
    assert first.number != second.number


def test_two_runs_of_the_shipment_handler_at_once_issue_one_invoice(main, each_shipment,
                                                                    settings):
    order, _book = _two_part_order(main)
    settings.BILLING_INVOICE_EACH_SHIPMENT = False  # the shipment leaves uninvoiced...
    shipment = _ship_ready_part(order, main, "T-1")
    assert not Invoice.objects.filter(order=order).exists()
    settings.BILLING_INVOICE_EACH_SHIPMENT = True  # ...and two workers then run its handler
    (message,) = OutboxMessage.objects.filter(handler="billing.invoice_shipment")
    lines = {int(k): v for k, v in message.payload["lines"].items()}
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                invoice_shipment(order_id=order.pk, shipment_id=shipment.pk,
                                 shipment_number=shipment.number, shipped_on=date.today(),
                                 lines=lines, actor=None)
        except Exception as exc:  # asserted empty below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    (invoice,) = Invoice.objects.filter(order=order)
    assert PaymentTransaction.objects.filter(kind="capture").count() == 1
    assert Payment.objects.get(order=order).captured_amount == invoice.total_gross
