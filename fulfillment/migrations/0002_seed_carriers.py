"""A few carriers to start with; the admin edits prices and adds more."""

from decimal import Decimal

from django.db import migrations

CARRIERS = [
    ("COLISSIMO", "La Poste Colissimo",
     "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking_number}",
     [("standard", "Standard", "6.90", 3), ("express", "Express", "12.50", 1)]),
    ("DHL", "DHL Express", "https://www.dhl.com/track?tracking-id={tracking_number}",
     [("economy", "Economy Select", "9.90", 4), ("express", "Express Worldwide", "24.00", 1)]),
    ("UPS", "UPS", "https://www.ups.com/track?tracknum={tracking_number}",
     [("standard", "Standard", "8.40", 3), ("saver", "Express Saver", "18.00", 2)]),
    ("GEODIS", "Geodis freight (LTL)", "",
     [("pallet", "Pallet, groupage", "95.00", 4)]),
]


def seed(apps, schema_editor):
    Carrier = apps.get_model("fulfillment", "Carrier")
    CarrierService = apps.get_model("fulfillment", "CarrierService")
    for code, name, template, services in CARRIERS:
        carrier, _created = Carrier.objects.get_or_create(
            code=code, defaults={"name": name, "tracking_url_template": template})
        for service_code, service_name, price, days in services:
            CarrierService.objects.get_or_create(
                carrier=carrier, code=service_code,
                defaults={"name": service_name, "price": Decimal(price), "transit_days": days})


class Migration(migrations.Migration):

    dependencies = [
        ("fulfillment", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
