"""Factories for the inventory app. Stock is put in through the services
(`stock()`), so the ledger always matches the stock levels."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.conf import settings

from inventory.models import BinLocation, Product, StockLevel, Warehouse


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    description = ""
    unit_price = Decimal("19.90")
    tax_rate = Decimal("20.00")
    weight_kg = Decimal("0.500")
    length_cm = Decimal("20.0")
    width_cm = Decimal("15.0")
    height_cm = Decimal("10.0")
    is_fragile = False
    is_active = True

    @factory.post_generation
    def prices(obj, create, extracted, **kwargs):  # noqa: N805
        """Priced at `unit_price` on every configured currency's catalogue
        default list, as the migration seeds an existing catalogue;
        `prices=False`: on no list."""
        if create and extracted is not False and obj.unit_price > 0:
            price_in_default_lists(obj, obj.unit_price)


def price_in_default_lists(product: Product, unit_price: Decimal,
                           currencies: list[str] | None = None) -> None:
    from orders.price_lists import PriceList, PriceListEntry

    for currency in currencies or settings.CURRENCIES:
        price_list = PriceList.objects.filter(
            currency=currency, customer=None, customer_group=None, valid_from=None,
            valid_until=None).order_by("pk").first() or PriceList.objects.create(
                name=f"Catalogue {currency}", currency=currency)
        PriceListEntry.objects.update_or_create(price_list=price_list, product=product,
                                                min_quantity=1,
                                                defaults={"unit_price": unit_price})


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n:02d}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    line1 = "1 Rue du Dépôt"
    postal_code = "69000"
    city = "Lyon"
    country = "FR"
    is_active = True


class BinLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BinLocation

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    code = factory.Sequence(lambda n: f"A-{n // 10:02d}-{n % 10}")


def stock(product: Product, warehouse: Warehouse, quantity: int, *, actor=None,
          reference: str = "factory") -> StockLevel:
    """Receive `quantity` through the service (ledger row included)."""
    from inventory.services import receive_stock

    if quantity > 0:
        receive_stock(product=product, warehouse=warehouse, quantity=quantity, actor=actor,
                      reference=reference)
    level, _created = StockLevel.objects.get_or_create(product=product, warehouse=warehouse)
    return level
