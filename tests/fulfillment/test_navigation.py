"""The Warehouse role sees its screens in the menu; Sales does not."""

from __future__ import annotations

import pytest

from oms.lib.navigation import items_for

pytestmark = pytest.mark.django_db


def test_warehouse_menu_has_the_fulfilment_screens(make_user):
    labels = {str(item["label"]) for item in items_for(make_user("Warehouse"))}
    assert {"To pick", "Pick lists", "To pack", "Shipments"} <= labels


def test_sales_menu_has_no_fulfilment_screens(make_user):
    labels = {str(item["label"]) for item in items_for(make_user("Sales"))}
    assert not {"To pick", "Pick lists", "To pack"} & labels
