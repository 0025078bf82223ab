"""`manage.py seed_demo`: demo logins (one per role) and demo data. Safe to run twice.

It lives in reporting because reporting is the top layer and may call every
app's services; the data goes in through those services, never around them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from oms.lib import roles
from reporting.management import demo_data, demo_history, demo_purchasing

DEMO_PASSWORD = "oms-demo-2026"  # noqa: S105 (documented in README.md; demo machines only)

# username -> role (group name)
DEMO_USERS: dict[str, str] = {
    "sales": roles.SALES,
    "warehouse": roles.WAREHOUSE,
    "service": roles.CUSTOMER_SERVICE,
    "accounting": roles.ACCOUNTING,
    "manager": roles.MANAGER,
    "buyer": roles.BUYER,
    "admin": roles.ADMIN,
}


def seed_users(*, reset_passwords: bool = False) -> list[tuple[str, str, bool]]:
    """Create the demo users; return (username, role, created) per user."""
    User = get_user_model()
    roles.sync_roles()
    result = []
    with transaction.atomic(durable=True):
        for username, role in DEMO_USERS.items():
            is_admin = role == roles.ADMIN
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@oms.example",
                    "first_name": str(roles.ROLE_LABELS[role]),
                    "is_staff": is_admin,
                    "is_superuser": is_admin,
                },
            )
            if created or reset_passwords:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
            result.append((username, role, created))
    return result


class Command(BaseCommand):
    help = "Create one demo user per role and the demo data. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--reset-passwords", action="store_true",
                            help="Set the demo password again on existing demo users.")
        parser.add_argument("--no-history", action="store_true",
                            help="Skip the year of past orders behind the demo.")
        parser.add_argument("--allow-without-debug", action="store_true",
                            help="Run with DEBUG off too (creates logins with a published "
                                 "password: never on a site customers use).")

    def handle(self, *args, reset_passwords: bool, allow_without_debug: bool, no_history: bool,
               **options):
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError("seed_demo creates logins with a published password; with "
                               "DEBUG off it runs only with --allow-without-debug.")
        users = seed_users(reset_passwords=reset_passwords)
        created = sum(1 for _u, _r, was_created in users if was_created)
        self.stdout.write(f"demo users: {created} created, {len(users) - created} already there")
        User = get_user_model()
        catalogue = demo_data.seed_catalogue(actor=User.objects.get(username="warehouse"))
        self.stdout.write("demo catalogue: " + ", ".join(
            f"{count} {what.replace('_', ' ')} created" for what, count in catalogue.items()))
        sales = User.objects.get(username="sales")
        # Credit terms and standing are Accounting's to set (customers.services).
        customers = demo_data.seed_customers(actor=User.objects.get(username="accounting"))
        placed = demo_data.seed_orders(customers=customers, actor=sales)
        self.stdout.write(f"demo customers: {len(customers)}; demo orders placed: {len(placed)}")
        for demo, order in placed:
            mark = "" if order.status == demo.status else f"  (expected {demo.status}!)"
            self.stdout.write(f"  {order.number} {order.status:<12} {demo.note}{mark}")
        bought = demo_purchasing.seed_purchasing(actor=User.objects.get(username="buyer"))
        self.stdout.write("demo purchasing: " + ", ".join(
            f"{count} {what.replace('_', ' ')} created" for what, count in bought.items()))
        if not no_history:
            added = demo_history.seed_history(progress=self._progress)
            self.stdout.write(f"demo history: {added} past orders over {demo_history.DAYS} days"
                              if added else "demo history: already there")
        self.stdout.write("")
        self.stdout.write("Demo logins (username / password):")
        for username, role, _created in users:
            self.stdout.write(f"  {role:<18} {username:<12} / {DEMO_PASSWORD}")
        if settings.OTP_REQUIRED_ROLES:
            self.stdout.write("  (" + ", ".join(settings.OTP_REQUIRED_ROLES) + ": an authenticator "
                              "app code too, set up at the first login; OTP_REQUIRED=false "
                              "turns it off in DEBUG)")
        self.stdout.write("")

    def _progress(self, done: int, total: int) -> None:
        """A bar in the terminal: [#########.........] 1,500 / 3,000 past orders."""
        width = 30
        filled = width * done // max(total, 1)
        self.stdout.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done:,} / {total:,} "
                          "past orders", ending="\n" if done >= total else "")
        self.stdout.flush()
