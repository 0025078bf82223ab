"""Run once in a fault stack's template database (`python -m tests.faults.seed`):
a catalogue with stock for thousands of orders, an API token, and a signed-in
manager's session. Prints what the tests need as one JSON line."""

from __future__ import annotations

import json
from decimal import Decimal

import django


def main() -> None:
    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from oms.api import create_api_token
    from oms.lib.roles import MANAGER
    from oms.models import ApiScope
    from tests.factories.inventory import ProductFactory, WarehouseFactory, stock

    warehouse = WarehouseFactory(code="LYO", name="Lyon")
    mug = ProductFactory(sku="MUG-1", name="Mug", unit_price=Decimal("9.99"))
    stock(mug, warehouse, 100_000)
    _token, raw_token = create_api_token(name="fault-load", scopes=[ApiScope.ORDERS],
                                         all_customers=True)

    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="faults", password="not-used-here")
    user.groups.add(Group.objects.get(name=MANAGER))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    print(json.dumps({"api_token": raw_token, "session_key": session.session_key}))


if __name__ == "__main__":
    main()
