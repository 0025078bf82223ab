"""API tokens: created once by the command, stored hashed, revocable in the admin."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from oms.models import ApiToken

pytestmark = pytest.mark.django_db


def create_token(name: str) -> str:
    out = StringIO()
    call_command("create_api_token", name, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


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
