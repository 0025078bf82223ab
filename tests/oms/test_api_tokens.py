"""API tokens: created once by the command, stored hashed, scoped, expiring,
revocable in the admin, rate limited (counted in the real Redis)."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from oms.api import RateLimited, count_request, create_api_token
from oms.models import ApiScope, ApiToken

pytestmark = pytest.mark.django_db


def create_token(name: str, *options: str) -> str:
    out = StringIO()
    call_command("create_api_token", name, *(options or ("--scope", "catalogue:read")),
                 stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_command_prints_the_token_once_and_stores_only_its_hash():
    raw = create_token("webshop")
    token = ApiToken.objects.get(name="webshop")
    assert raw.startswith("oms_") and len(raw) > 30
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.token_hash, token.prefix, token.name}
    assert token.prefix == raw[:12]
    assert token.revoked_at is None


def test_command_refuses_a_duplicate_name():
    create_token("erp")
    with pytest.raises(CommandError):
        create_token("erp")
    assert ApiToken.objects.filter(name="erp").count() == 1


def test_token_authenticates_until_revoked_in_the_admin(client, make_user):
    raw = create_token("pos")
    url = "/api/v1/products/NO-SUCH-SKU"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get(url, **auth).status_code == 404  # authenticated, no such product
    assert ApiToken.objects.get(name="pos").last_used_at is not None

    admin = make_user("Admin", is_superuser=True)
    client.force_login(admin)
    token = ApiToken.objects.get(name="pos")
    response = client.post(reverse("admin:oms_apitoken_changelist"),
                           {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    client.logout()

    response = client.get(url, **auth)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_missing_or_unknown_token_is_401(client):
    assert client.get("/api/v1/products/X").status_code == 401
    response = client.get("/api/v1/products/X", HTTP_AUTHORIZATION="Bearer oms_nope")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_tokens_cannot_be_deleted_in_the_admin_only_revoked(client, make_user):
    create_token("shop")
    token = ApiToken.objects.get(name="shop")
    client.force_login(make_user("Admin", is_superuser=True))

    assert client.get(reverse("admin:oms_apitoken_delete", args=[token.pk])).status_code == 403
    response = client.post(reverse("admin:oms_apitoken_changelist"),
                           {"action": "delete_selected", "_selected_action": [token.pk],
                            "post": "yes"})
    assert response.status_code in (200, 302)
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_command_sets_scopes_carrier_expiry_and_the_customer_flag():
    create_token("ups-bridge", "--scope", "carrier_events", "--carrier", "UPS",
                 "--expires-in-days", "30")
    create_token("erp", "--scope", "orders", "--scope", "catalogue:read", "--all-customers")
    bridge = ApiToken.objects.get(name="ups-bridge")
    assert bridge.scopes == ["carrier_events"]
    assert bridge.carrier_code == "UPS"
    assert timezone.now() + timedelta(days=29) < bridge.expires_at \
        < timezone.now() + timedelta(days=31)
    assert not bridge.all_customers
    erp = ApiToken.objects.get(name="erp")
    assert erp.scopes == ["catalogue:read", "orders"]
    assert erp.all_customers and erp.expires_at is None


@pytest.mark.parametrize("options", [
    (),  # no scope at all: argparse refuses (required)
    ("--scope", "carrier_events"),  # carrier scope without its carrier
    ("--scope", "orders", "--carrier", "UPS"),  # a carrier without the scope
    ("--scope", "orders", "--expires-in-days", "0"),
])
def test_command_refuses_incomplete_scopes(options):
    out = StringIO()
    with pytest.raises((CommandError, SystemExit)):
        call_command("create_api_token", "half", *options, stdout=out, stderr=StringIO())
    assert not ApiToken.objects.filter(name="half").exists()


@pytest.mark.parametrize("path, scope", [
    ("/api/v1/products", ApiScope.CATALOGUE_READ),
    ("/api/v1/stock?sku=X", ApiScope.CATALOGUE_READ),
    ("/api/v1/orders/SO-2026-000001", ApiScope.ORDERS),
])
def test_a_token_without_the_endpoints_scope_is_403(client, path, scope):
    other = next(s for s in (ApiScope.ORDERS, ApiScope.CATALOGUE_READ) if s != scope)
    _token, without = create_api_token(name="without", scopes=[other])
    _token, with_scope = create_api_token(name="with", scopes=[scope])

    refused = client.get(path, **bearer(without))
    assert refused.status_code == 403
    assert set(refused.json()) == {"detail", "errors"}
    assert scope in refused.json()["detail"]
    assert client.get(path, **bearer(with_scope)).status_code in (200, 404)


def test_a_token_without_orders_scope_cannot_place_an_order(client):
    _token, raw = create_api_token(name="catalogue-only", scopes=[ApiScope.CATALOGUE_READ])
    response = client.post("/api/v1/orders", data={}, content_type="application/json",
                           **bearer(raw))
    assert response.status_code == 403


def test_an_expired_token_is_401_like_a_revoked_one(client):
    token, raw = create_api_token(name="temp", scopes=[ApiScope.CATALOGUE_READ],
                                  expires_at=timezone.now() + timedelta(hours=1))
    assert client.get("/api/v1/products", **bearer(raw)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get("/api/v1/products", **bearer(raw))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert set(response.json()) == {"detail", "errors"}


def test_admin_edits_scopes_carrier_and_expiry(client, make_user):
    token, raw = create_api_token(name="bridge", scopes=[ApiScope.CATALOGUE_READ])
    client.force_login(make_user("Admin", is_superuser=True))
    url = reverse("admin:oms_apitoken_change", args=[token.pk])
    form = {"name": "bridge", "scopes": ["carrier_events"], "carrier_code": "",
            "expires_at_0": "", "expires_at_1": ""}
    refused = client.post(url, form)
    assert refused.status_code == 200  # the form again, with the carrier error
    token.refresh_from_db()
    assert token.scopes == ["catalogue:read"]

    expires = timezone.localtime() + timedelta(days=7)
    response = client.post(url, {**form, "carrier_code": "UPS",
                                 "expires_at_0": expires.strftime("%Y-%m-%d"),
                                 "expires_at_1": expires.strftime("%H:%M:%S")})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.scopes == ["carrier_events"]
    assert token.carrier_code == "UPS"
    assert token.expires_at is not None
    client.logout()
    assert client.get("/api/v1/products", **bearer(raw)).status_code == 403


def test_existing_tokens_keep_orders_and_catalogue_scopes_after_the_migration():
    from django.db.migrations.executor import MigrationExecutor

    # The data step alone, on today's table: a token without scopes gets
    # what it could use before scopes existed. Found by its function, not
    # by the migration's number.
    loader = MigrationExecutor(connection).loader
    (key, step), = [
        ((app, name), op) for (app, name), migration in loader.disk_migrations.items()
        if app == "oms" for op in migration.operations
        if getattr(getattr(op, "code", None), "__name__", "") == "grant_existing_scopes"]
    ApiToken.objects.create(name="legacy", token_hash="0" * 64, prefix="oms_legacy")
    step.code(loader.project_state(key).apps, None)
    assert ApiToken.objects.get(name="legacy").scopes == ["catalogue:read", "orders"]


@pytest.fixture
def rate_limit(settings):
    """A small limit, counted in the real Redis (REDIS_URL)."""
    assert settings.CACHES["shared"]["BACKEND"].endswith("RedisCache"), "tests need REDIS_URL"
    settings.API_RATE_LIMIT_PER_MINUTE = 5
    return 5


def test_requests_over_the_per_minute_limit_are_429_with_retry_after(client, rate_limit):
    _token, raw = create_api_token(name="busy", scopes=[ApiScope.CATALOGUE_READ])
    _token, other = create_api_token(name="quiet", scopes=[ApiScope.CATALOGUE_READ])
    statuses = [client.get("/api/v1/products", **bearer(raw)).status_code
                for _ in range(rate_limit)]
    assert statuses == [200] * rate_limit

    refused = client.get("/api/v1/products", **bearer(raw))
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert set(refused.json()) == {"detail", "errors"}
    # Counted per token: another integration is not slowed down.
    assert client.get("/api/v1/products", **bearer(other)).status_code == 200


def test_the_limit_holds_across_concurrent_clients(rate_limit):
    """Threads (each with its own Redis connection) share one counter:
    exactly the allowance gets through, whatever the interleaving."""
    _token, raw = create_api_token(name="burst", scopes=[ApiScope.CATALOGUE_READ])
    token = ApiToken.objects.get(name="burst")

    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(10)

    def hit():
        start.wait()
        try:
            count_request(token)
            result = "ok"
        except RateLimited:
            result = "limited"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=hit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["limited"] * 5 + ["ok"] * 5


def test_every_operation_declares_the_auth_scope_and_rate_limit_answers(client):
    schema = client.get("/api/v1/openapi.json").json()
    operations = [(path, method, operation) for path, item in schema["paths"].items()
                  for method, operation in item.items()]
    assert operations
    for path, method, operation in operations:
        for status in ("401", "403", "429", "503"):
            declared = operation["responses"].get(status)
            assert declared, f"{method.upper()} {path} does not declare {status}"
            ref = declared["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorOut")
    assert "`orders`" in schema["info"]["description"]
    assert "`carrier_events`" in schema["info"]["description"]
