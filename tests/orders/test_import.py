# ruff: noqa: F811  (pytest fixtures imported from capture_support)
"""CSV import: preview with per-row errors; all orders in one transaction or none."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from inventory.models import StockLevel
from oms.lib.progress import Progress
from oms.models import OutboxMessage
from orders import imports
from orders.models import Order
from tests.orders.capture_support import catalogue, written  # noqa: F401

pytestmark = pytest.mark.django_db

HEADER = ("order_ref,customer_email,customer_name,sku,quantity,currency,"
          "ship_name,ship_line1,ship_postal_code,ship_city,ship_country,payment_method")
ADA = "ada@example.com,Ada Lovelace"
ADDRESS = "Ada Lovelace,1 Rue de Rivoli,75001,Paris,FR"
CLEAN = "\n".join([
    HEADER,
    f"A-1,{ADA},MUG-1,2,EUR,{ADDRESS},bank_transfer",
    f"A-1,{ADA},TEA-1,3,EUR,{ADDRESS},bank_transfer",
    "B-7,bob@example.com,Bob,MUG-1,1,EUR,Bob,2 Main St,10001,New York,US,",
]) + "\n"


def upload(client, text: str, name: str = "orders.csv"):
    return client.post(reverse("orders:import"),
                       {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def confirm(client, ticket: str, capture) -> str:
    """Confirm the previewed import, let the worker run it, and return the
    page the browser is sent to (its progress bar, finished)."""
    with capture(execute=True):  # the import runs in the background, after commit
        response = client.post(reverse("orders:import_confirm"), {"ticket": ticket})
    assert response.status_code == 302
    assert response.url.startswith(reverse("orders:import") + "?job=")
    return client.get(response.url).content.decode()


def test_clean_file_previews_then_imports_every_order(client_for, catalogue,
                                                      django_capture_on_commit_callbacks):
    client = client_for("Sales")
    preview = upload(client, CLEAN)
    assert preview.status_code == 200
    assert preview.context["preview"].is_clean
    assert [o.ref for o in preview.context["preview"].orders] == ["A-1", "B-7"]
    assert written() == (0, 0)  # the preview writes nothing

    page = confirm(client, preview.context["ticket"], django_capture_on_commit_callbacks)

    assert 'data-finished="true"' in page and 'value="100"' in page
    assert "2 orders imported." in page
    orders = list(Order.objects.order_by("id"))
    assert [o.channel for o in orders] == ["import", "import"]
    assert [o.lines.count() for o in orders] == [2, 1]
    assert orders[0].customer.email == "ada@example.com"
    assert orders[0].total_net == preview.context["preview"].orders[0].total_net
    assert "A-1" in orders[0].notes
    assert orders[1].shipping_address["country"] == "US"
    assert Customer.objects.count() == 2


def test_one_bad_row_imports_nothing_and_the_preview_names_the_row(client_for, catalogue):
    client = client_for("Sales")
    text = CLEAN + f"C-9,{ADA},NOPE-1,1,EUR,{ADDRESS},\n"
    response = upload(client, text)

    assert response.status_code == 422
    preview = response.context["preview"]
    assert not preview.is_clean
    assert "ticket" not in response.context
    [bad] = preview.error_rows
    assert bad.number == 5 and "sku" in bad.errors
    assert b"Unknown SKU NOPE-1" in response.content
    assert written() == (0, 0)


@pytest.mark.parametrize(("row", "column"), [
    (f"A-1,{ADA},NOPE,1,EUR,{ADDRESS},", "sku"),
    (f"A-1,{ADA},OLD-1,1,EUR,{ADDRESS},", "sku"),
    (f"A-1,{ADA},MUG-1,0,EUR,{ADDRESS},", "quantity"),
    (f"A-1,{ADA},MUG-1,-2,EUR,{ADDRESS},", "quantity"),
    (f"A-1,{ADA},MUG-1,1.5,EUR,{ADDRESS},", "quantity"),
    (f"A-1,{ADA},MUG-1,two,EUR,{ADDRESS},", "quantity"),
    (f"A-1,not-an-email,Ada,MUG-1,1,EUR,{ADDRESS},", "customer_email"),
    (f"A-1,{ADA},MUG-1,1,XYZ,{ADDRESS},", "currency"),
    (f"A-1,{ADA},MUG-1,1,EUR,Ada,1 Rue,75001,Paris,France,", "ship_country"),
    (f"A-1,{ADA},MUG-1,1,EUR,Ada,,75001,Paris,FR,", "ship_line1"),
    (f",{ADA},MUG-1,1,EUR,{ADDRESS},", "order_ref"),
    (f"A-1,{ADA},,1,EUR,{ADDRESS},", "sku"),
    (f"A-1,{ADA},MUG-1,1,EUR,{ADDRESS},card", "payment_method"),
])
def test_each_kind_of_bad_row_is_reported_on_its_column(catalogue, row, column):
    preview = imports.check(f"{HEADER}\n{row}\n".encode())
    assert not preview.is_clean
    assert column in preview.rows[0].errors, preview.rows[0].errors


def test_rows_of_one_order_must_agree_and_not_repeat_a_sku(catalogue):
    text = "\n".join([
        HEADER,
        f"A-1,{ADA},MUG-1,1,EUR,{ADDRESS},",
        f"A-1,{ADA},TEA-1,1,USD,{ADDRESS},",
        f"A-1,{ADA},MUG-1,1,EUR,{ADDRESS},",
    ])
    preview = imports.check(text.encode())
    assert "currency" in preview.rows[1].errors
    assert "sku" in preview.rows[2].errors


def test_blocked_customer_row_is_an_error(catalogue):
    Customer.objects.create(name="Ada", email="ada@example.com", standing="blocked")
    preview = imports.check(f"{HEADER}\nA-1,{ADA},MUG-1,1,EUR,{ADDRESS},\n".encode())
    assert "customer_email" in preview.rows[0].errors


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("order_ref,sku\nA,MUG-1\n", "Missing columns"),
    (HEADER + ",unit_price\n", "Unknown columns"),
    (HEADER + "\n", "no rows"),
])
def test_file_level_errors(catalogue, text, message):
    preview = imports.check(text.encode())
    assert not preview.is_clean
    assert any(message in error for error in preview.file_errors)


def test_semicolon_files_and_a_bom_are_understood(catalogue):
    text = "\ufeff" + CLEAN.replace(",", ";")
    assert imports.check(text.encode()).is_clean


def test_not_utf8_is_refused_on_the_upload_field(client_for, catalogue):
    client = client_for("Sales")
    response = client.post(reverse("orders:import"), {
        "file": SimpleUploadedFile("x.csv", "é".encode("latin-1") + b"\n", "text/csv")})
    assert response.status_code == 422
    assert response.context["form"].errors["file"]


def test_stock_gone_between_preview_and_confirm_imports_nothing(
        client_for, catalogue, django_capture_on_commit_callbacks):
    client = client_for("Sales")
    preview = upload(client, CLEAN)
    StockLevel.objects.filter(product=catalogue["TEA-1"]).update(reserved=49)

    page = confirm(client, preview.context["ticket"], django_capture_on_commit_callbacks)

    assert 'data-finished="true"' in page and "flash error" in page
    assert "A-1" in page and "Nothing was imported" in page
    assert written() == (0, 0)
    assert OutboxMessage.objects.get(handler=imports.IMPORT_HANDLER).status == "done"  # no retry


def test_the_bar_follows_the_orders_placed_and_only_its_owner_sees_it(
        client_for, make_user, catalogue, django_capture_on_commit_callbacks):
    client = client_for("Sales")
    preview = upload(client, CLEAN)
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not started
        response = client.post(reverse("orders:import_confirm"),
                               {"ticket": preview.context["ticket"]})
    key = response.url.split("job=")[1]
    waiting = client.get(reverse("progress", args=[key])).content.decode()
    assert 'data-finished="false"' in waiting and 'hx-trigger="every 1s"' in waiting

    progress = Progress(key)
    progress.advance(0, total=4)
    progress.advance(1)
    progress.advance(1, total=4)  # a new total writes at once
    halfway = client.get(reverse("progress", args=[key])).content.decode()
    assert "2 of 4 done (50 %)" in halfway and 'value="50"' in halfway

    other = Client()
    other.force_login(make_user("Sales", username="colleague"))
    assert other.get(reverse("progress", args=[key])).status_code == 404
    assert client.get(reverse("progress", args=["not-a-job"])).status_code == 404


def test_the_same_file_cannot_be_imported_twice(client_for, catalogue,
                                                django_capture_on_commit_callbacks):
    client = client_for("Sales")
    first = upload(client, CLEAN)
    confirm(client, first.context["ticket"], django_capture_on_commit_callbacks)
    again = upload(client, CLEAN)
    assert again.status_code == 422
    assert "ticket" not in again.context
    assert Order.objects.count() == 2


def test_a_tampered_ticket_is_refused(client_for, catalogue):
    client = client_for("Sales")
    response = client.post(reverse("orders:import_confirm"), {"ticket": "forged"})
    assert response.status_code == 302
    assert written() == (0, 0)


def test_import_needs_the_import_permission(client_for):
    client = client_for("Warehouse")
    assert client.get(reverse("orders:import")).status_code == 403
    assert client.post(reverse("orders:import_confirm"), {"ticket": "x"}).status_code == 403


def test_unconfirmed_uploads_are_swept_after_a_day(settings, catalogue):
    import os
    import time

    old = imports.store_upload(b"old")
    path = settings.MEDIA_ROOT / imports.IMPORT_DIR / old
    day_ago = time.time() - imports.UPLOAD_KEEP_SECONDS - 60
    os.utime(path, (day_ago, day_ago))
    fresh = imports.store_upload(b"fresh")
    assert not path.exists()
    assert imports.load_upload(fresh) == b"fresh"


def test_a_past_promised_date_is_refused_in_the_preview_not_at_import(catalogue):
    header = HEADER + ",promised_delivery_date"
    preview = imports.check(f"{header}\nA-1,{ADA},MUG-1,1,EUR,{ADDRESS},,2000-01-31\n".encode())
    assert not preview.is_clean
    assert "promised_delivery_date" in preview.rows[0].errors


@pytest.mark.django_db(transaction=True)
def test_confirming_twice_at_once_imports_the_file_once(make_user, catalogue):
    import threading

    from django.db import connection
    from django.test import Client

    user = make_user("Sales")
    clients = [Client() for _ in range(3)]
    for client in clients:
        client.force_login(user)
    ticket = upload(clients[0], CLEAN).context["ticket"]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def confirm(client: Client) -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(client.post(reverse("orders:import_confirm"),
                                        {"ticket": ticket}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # The first imports; the others were told so (or found the file gone after it).
    assert len(statuses) == 3 and statuses.count(302) >= 1
    assert set(statuses) <= {302, 400}
    assert Order.objects.count() == 2
    assert Customer.objects.count() == 2


def test_a_file_over_the_row_limit_is_refused_whole(monkeypatch, catalogue):
    monkeypatch.setattr(imports, "MAX_ROWS", 2)
    preview = imports.check(CLEAN.encode())  # three rows
    assert not preview.is_clean and preview.orders == []
    assert preview.file_errors == ["More than 2 rows; split the file."]


def test_ship_complete_is_read_and_a_bad_value_is_a_field_error(catalogue):
    header = HEADER + ",ship_complete"
    good = imports.check(f"{header}\nA-1,{ADA},MUG-1,1,EUR,{ADDRESS},,no\n".encode())
    assert good.is_clean and good.orders[0].data.ship_complete is False
    blank = imports.check(f"{header}\nA-1,{ADA},MUG-1,1,EUR,{ADDRESS},,\n".encode())
    assert blank.is_clean and blank.orders[0].data.ship_complete is None
    bad = imports.check(f"{header}\nA-1,{ADA},MUG-1,1,EUR,{ADDRESS},,perhaps\n".encode())
    assert not bad.is_clean and "ship_complete" in bad.rows[0].errors
