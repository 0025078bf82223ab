"""A database connection lost under a request answers 503 with Retry-After:
the translated page for the back office, the JSON error for the API.

The connection is cut for real: another session terminates the backend
serving the test client (tests/faults restarts a whole PostgreSQL)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory

from oms.api import create_api_token
from oms.lib.errors import RETRY_AFTER_SECONDS, server_error
from oms.models import ApiScope


@pytest.fixture
def cut_connection(transactional_db):
    """Call it to terminate the server process behind Django's connection."""

    def cut() -> None:
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    yield cut
    connection.close()  # the broken one; the next query opens a fresh connection


def test_a_page_answers_503_translated_when_the_database_connection_is_lost(
        client_for, cut_connection):
    client = client_for("Manager")
    assert client.get("/").status_code == 200
    cut_connection()

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "Le service est momentanément indisponible" in response.content.decode()


def test_an_htmx_request_gets_the_message_in_the_flash_box(client_for, cut_connection):
    client = client_for("Manager")
    assert client.get("/").status_code == 200
    cut_connection()

    response = client.get("/", HTTP_HX_REQUEST="true")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["HX-Retarget"] == "#flash"
    assert "temporarily unavailable" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_api_answers_503_json_when_the_database_connection_is_lost(client, cut_connection):
    _token, raw = create_api_token(name="shop", scopes=[ApiScope.ORDERS])
    cut_connection()

    response = client.get("/api/v1/orders/SO-2026-000001", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["detail"].startswith("The service is temporarily unavailable.")
    assert response.json()["errors"] == {}


def test_the_error_handler_answers_503_for_a_lost_database_and_500_otherwise(db):
    request = RequestFactory().get("/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        unavailable = server_error(request)
    try:
        raise ValueError("a bug")
    except ValueError:
        broken = server_error(request)

    assert unavailable.status_code == 503
    assert unavailable["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert broken.status_code == 500
