"""Stored files (invoice PDFs, report files, imports) are never served at
/media/ without a login: only through the permission-checked download views."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse

from billing.models import Invoice
from tests.billing.invoicing_support import reserved_order, ship

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice_with_stored_pdf(django_capture_on_commit_callbacks) -> Invoice:
    order = reserved_order()
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    invoice = Invoice.objects.get(order=order)
    assert invoice.pdf_path and default_storage.exists(invoice.pdf_path)
    return invoice


def _resolves_with_debug_on(path: str) -> bool:
    """Whether `path` has a view in the URL configuration `make run` builds
    (DEBUG on): the test runner turns DEBUG off, which alone would hide a
    DEBUG-only media route, so a fresh process imports the URLs."""
    script = ("import django; django.setup()\n"
              "from django.urls import Resolver404, resolve\n"
              f"try:\n    resolve({path!r})\nexcept Resolver404:\n    print('none')\n"
              "else:\n    print('served')\n")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        cwd=settings.BASE_DIR, check=True,
        env={**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "oms.test_settings"})
    return result.stdout.strip().splitlines()[-1] == "served"


def test_a_stored_file_is_not_served_under_the_media_url(client, client_for,
                                                          invoice_with_stored_pdf):
    media_path = f"/{settings.MEDIA_URL.strip('/')}/{invoice_with_stored_pdf.pdf_path}"
    assert not _resolves_with_debug_on(media_path)
    assert client.get(media_path).status_code == 404
    # Not even to a signed-in user allowed to see the invoice.
    assert client_for("Accounting").get(media_path).status_code == 404


def test_the_invoice_download_view_serves_the_stored_file_to_an_allowed_role(
        client_for, invoice_with_stored_pdf):
    response = client_for("Accounting").get(
        reverse("billing:invoice_pdf", args=[invoice_with_stored_pdf.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    with default_storage.open(invoice_with_stored_pdf.pdf_path, "rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


def test_the_invoice_download_view_refuses_a_role_without_the_permission(
        client_for, invoice_with_stored_pdf):
    response = client_for("Warehouse").get(
        reverse("billing:invoice_pdf", args=[invoice_with_stored_pdf.pk]))
    assert response.status_code == 403
