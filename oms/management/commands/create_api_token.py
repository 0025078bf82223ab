"""`manage.py create_api_token NAME --scope ...`: one bearer token per integration."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from oms.api import create_api_token
from oms.lib.errors import ApplicationError
from oms.models import ApiScope


class Command(BaseCommand):
    help = ("Create an API token for an integration and print it once (only its hash is "
            "stored). Scopes: " + ", ".join(f"{value} ({label})"
                                           for value, label in ApiScope.choices))

    def add_arguments(self, parser):
        parser.add_argument("name", help="Unique name of the integration, e.g. 'webshop'.")
        parser.add_argument("--scope", dest="scopes", action="append", required=True,
                            choices=ApiScope.values,
                            help="What the token may do; repeat for several scopes.")
        parser.add_argument("--carrier", dest="carrier_code", default="",
                            help="Carrier code: the one carrier whose shipments a "
                                 "carrier_events token may update.")
        parser.add_argument("--expires-in-days", type=int, default=None,
                            help="The token stops working after this many days.")
        parser.add_argument("--all-customers", action="store_true",
                            help="A trusted integration (ERP): its orders use every "
                                 "customer's terms, credit limit and standing.")

    def handle(self, *args, name: str, scopes: list[str], carrier_code: str,
               expires_in_days: int | None, all_customers: bool, **options):
        if expires_in_days is not None and expires_in_days <= 0:
            raise CommandError("--expires-in-days must be at least 1.")
        expires_at = (timezone.now() + timedelta(days=expires_in_days)
                      if expires_in_days is not None else None)
        try:
            token, raw = create_api_token(name=name, scopes=scopes, carrier_code=carrier_code,
                                          expires_at=expires_at, all_customers=all_customers)
        except ApplicationError as exc:
            raise CommandError(exc.message)
        self.stderr.write(f"Token for {token.name!r} (shown once, store it now):")
        self.stdout.write(raw)
