"""Fixtures for the inventory tests."""

from __future__ import annotations

import pytest

from inventory.models import Reservation, StockLevel, StockMovement
from tests.factories.inventory import ProductFactory, WarehouseFactory


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="LYO", name="Lyon")


@pytest.fixture
def second_warehouse(db):
    return WarehouseFactory(code="PAR", name="Paris")


def snapshot() -> tuple:
    """Everything the inventory writes, to prove a refused call changed nothing."""
    return (
        sorted(StockLevel.objects.values_list("pk", "on_hand", "reserved")),
        sorted(Reservation.objects.values_list("pk", "status", "kind", "quantity")),
        StockMovement.objects.count(),
    )
