"""`manage.py create_api_token NAME`: one bearer token per integration."""

from django.core.management.base import BaseCommand, CommandError

from oms.api import create_api_token
from oms.lib.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API token for an integration and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Unique name of the integration, e.g. 'webshop'.")

    def handle(self, *args, name: str, **options):
        try:
            token, raw = create_api_token(name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message)
        self.stderr.write(f"Token for {token.name!r} (shown once, store it now):")
        self.stdout.write(raw)
