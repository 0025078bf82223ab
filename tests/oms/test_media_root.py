"""The suite never writes into the checkout's .data/media, where `make run`
keeps the demo's files: tests and the processes they start share a temporary
media root (tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from billing.models import Invoice
from tests.billing.invoicing_support import reserved_order, ship

CHECKOUT_MEDIA = Path(settings.BASE_DIR) / ".data" / "media"


def _files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def test_the_media_root_is_outside_the_checkout_and_shared_with_child_processes():
    media_root = Path(settings.MEDIA_ROOT).resolve()
    assert not media_root.is_relative_to(Path(settings.BASE_DIR).resolve()), media_root
    assert Path(os.environ["MEDIA_ROOT"]).resolve() == media_root
    assert Path(default_storage.location).resolve() == media_root


@pytest.mark.django_db
def test_an_invoice_pdf_is_stored_under_the_temporary_root(django_capture_on_commit_callbacks):
    before = _files_under(CHECKOUT_MEDIA)
    order = reserved_order()
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)

    invoice = Invoice.objects.get(order=order)
    assert invoice.pdf_path
    stored = Path(default_storage.path(invoice.pdf_path)).resolve()
    assert stored.is_file() and stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert _files_under(CHECKOUT_MEDIA) == before
