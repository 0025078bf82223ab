"""Record ids in pages are written as plain digits in every language: the
thousands separator of displayed numbers ("1,234", "1 234", "1.234") must not
reach a form value, an element id or a link, or a form posts an id its view
cannot read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from fulfillment.models import PickList
from tests.factories.fulfillment import reserved_order, shelved_product
from tests.factories.inventory import WarehouseFactory

ROOT = Path(__file__).resolve().parents[2]
# `{{ order.pk }}`, `{{ line.order_line_id }}`: an id printed with the
# number formatting of the reader's language.
LOCALIZED_ID = re.compile(r"\{\{ *[A-Za-z_][A-Za-z0-9_.]*(?:\.pk|\.id|_pk|(?<!auto)(?<!vat)"
                          r"(?<!vat_buyer)_id) *\}\}")


def test_no_template_prints_an_id_with_the_number_format():
    found = {str(path.relative_to(ROOT)): LOCALIZED_ID.findall(path.read_text())
             for path in sorted((ROOT / "templates").rglob("*"))
             if path.suffix in (".html", ".txt")}
    assert {path: ids for path, ids in found.items() if ids} == {}


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_an_order_numbered_past_a_thousand_is_picked_from_the_page(client_for, language):
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), 12344)")
    main = WarehouseFactory(code="MAIN")
    order = reserved_order([(shelved_product(main, 10), 1)])
    assert order.pk == 12345
    client = client_for("Warehouse")
    with translation.override(language):
        page = client.get(reverse("fulfillment:to_pick"), {"warehouse": main.pk},
                          HTTP_ACCEPT_LANGUAGE=language).content.decode()
    # The browser posts what the page says.
    (value,) = re.findall(r'name="order" value="([^"]+)"', page)
    assert value == "12345"
    client.post(reverse("fulfillment:create_pick_list"), {"warehouse": main.pk,
                                                          "order": [value]})
    assert PickList.objects.get().lines.get().order_id == order.pk
