"""The order timeline shows billing's facts in the reader's language, whatever
the language of the clerk who recorded them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from billing import services
from billing.models import Invoice
from orders import services as order_services
from tests.billing.invoicing_support import reserved_order, ship

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _timeline(client, order, language: str) -> str:
    response = client.get(reverse("orders:detail", args=[order.pk]),
                          HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    html = html[html.index('id="timeline-title"'):]
    return html.replace("\u202f", " ").replace("\xa0", " ")


def test_a_payment_recorded_by_a_french_clerk_reads_in_each_readers_language(
        client_for, make_user, django_capture_on_commit_callbacks):
    order = reserved_order()
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    invoice = Invoice.objects.get(order=order)
    clerk = make_user("Accounting", username="comptable")
    with translation.override("fr"):
        services.record_invoice_payment(
            invoice_id=invoice.pk, data=services.InvoicePaymentInput(
                amount=Decimal("5.00"), method="bank_transfer",
                received_on=timezone.localdate(), reference="STMT-1"), actor=clerk)
    # A free-text note (as the older rows of billing's facts are) reads as written.
    order_services.add_note(order_id=order.pk, actor=clerk, text="Payé en espèces.")
    client = client_for("Accounting")

    english = _timeline(client, order, "en")
    assert (f"Payment of €5.00 (Bank transfer, STMT-1) recorded on invoice "
            f"{invoice.number}.") in english
    assert "Paiement" not in english and "Payé en espèces." in english

    french = _timeline(client, order, "fr")
    assert (f"Paiement de 5,00 € (Virement bancaire, STMT-1) enregistré sur la facture "
            f"{invoice.number}.") in french
    assert "Payment of" not in french and "Payé en espèces." in french


@pytest.mark.parametrize("customer_kw, english, french", [
    ({"standing": "new", "credit_limit": Decimal("100000.00")},
     "First orders of a new customer need approval by Sales or Accounting.",
     "nouveau client doivent être approuvées"),
    # The credit hold's figures are formatted for the reader: "10,00 €" in French.
    ({"credit_limit": Decimal("10.00")},
     "over the credit limit €10.00.", "au-delà de la limite de crédit (10,00"),
])
def test_the_approvals_own_reason_reads_in_each_readers_language(
        client_for, customer_kw, english, french):
    from billing.services import approve_order_payment
    from tests.factories.billing import net_terms
    from tests.factories.customers import CustomerFactory
    from tests.factories.orders import make_order

    customer = CustomerFactory(payment_preference="net_terms", payment_terms_days=30,
                               **customer_kw)
    order = make_order(customer=customer, payment=net_terms())
    with translation.override("fr"):  # the system decided while a French request ran
        approve_order_payment(order_id=order.pk, payment=net_terms(), actor=None)
    order.refresh_from_db()
    assert order.status == "on_hold"
    client = client_for("Accounting")

    in_english = _timeline(client, order, "en")
    assert english in in_english and french not in in_english
    assert french in _timeline(client, order, "fr")
