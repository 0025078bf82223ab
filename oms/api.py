"""The JSON API (`/api/v1/`): one NinjaAPI, bearer tokens, idempotency, errors.

The apps contribute their endpoints as ninja Routers in `<app>/api_v1.py`;
`oms/urls.py` mounts them here, so this module imports no domain app.

Errors always have the shape `{"detail": str, "errors": {field: [messages]}}`:
schema validation answers 422, business refusals (`ApplicationError`) their
own status, a missing or revoked token 401, a database that cannot be
reached 503 with Retry-After.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer

from oms.lib.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, ApplicationError
from oms.lib.validation import field_errors
from oms.models import ApiToken, IdempotencyRecord

TOKEN_PREFIX = "oms_"  # noqa: S105 (a public marker, not a secret)
# last_used_at is informational: write it at most once a minute per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a request waits for a concurrent twin with the same key to finish.
IDEMPOTENCY_WAIT_SECONDS = 30.0
# A claim without an answer after this long belongs to a request that died
# (worker killed mid-way; its transaction rolled back): it may be taken over.
IDEMPOTENCY_STALE_AFTER = timedelta(minutes=5)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(*, name: str) -> tuple[ApiToken, str]:
    """Create a token for an integration; returns the row and the secret,
    which is not stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("A token needs a name."), field_errors={"name": [_("Required.")]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic(durable=True):
            token = ApiToken.objects.create(name=name, token_hash=hash_token(raw),
                                            prefix=raw[:12])
    except IntegrityError:
        raise ApplicationError(_("A token named %(name)s already exists.") % {"name": name},
                               field_errors={"name": [_("Already in use.")]})
    return token, raw


def revoke_api_tokens(*, token_ids: list[int]) -> int:
    """Revoke tokens; already revoked ones keep their first revocation time."""
    with transaction.atomic(durable=True):
        return ApiToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).update(
            revoked_at=timezone.now())


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; `request.auth` becomes the ApiToken."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if not token:
            return None
        api_token = ApiToken.objects.filter(token_hash=hash_token(token),
                                            revoked_at__isnull=True).first()
        if api_token is None:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
            api_token.last_used_at = now
        return api_token


def request_fingerprint(request: HttpRequest) -> str:
    """SHA-256 of method, path and the JSON body in canonical form (key order
    and whitespace do not count)."""
    try:
        body: Any = json.loads(request.body or b"null")
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        canonical = request.body.decode("utf-8", "replace")
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def _claim(token: ApiToken, key: str, fingerprint: str, path: str) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING, in the transaction of the work: of
    concurrent requests with one key exactly one gets the row id back, the
    others wait on the unique index until its transaction ends."""
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (token_id, key, request_hash, request_path, created_at)"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (token_id, key) DO NOTHING RETURNING id",
            [token.pk, key, fingerprint, path[:255], timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = JsonResponse(record.response_body, status=record.response_status, safe=False)
    response["Idempotent-Replayed"] = "true"
    return response


def _key_mismatch() -> ApplicationError:
    error = ApplicationError(
        _("This Idempotency-Key was already used with a different request."),
        field_errors={"Idempotency-Key": [
            _("Already used with a different request body; use a new key.")]},
        code="idempotency_mismatch")
    error.status = 422
    return error


def run_idempotent(request: HttpRequest, key: str | None, work: Callable[[], tuple[int, dict]],
                   *, refresh: Callable[[dict], dict] | None = None,
                   ) -> HttpResponse | tuple[int, dict]:
    """Run `work` once per (token, Idempotency-Key).

    The first request claims the key, runs `work` and stores its successful
    answer; a repeat with the same body replays that answer, one with another
    body is refused with 422. Concurrent twins wait for the first to finish.
    Refusals (4xx) are not stored: the claim is dropped, so the client may fix
    the cause and retry with the same key.

    Claim, work and answer commit together: a request cut off half-way (the
    database restarted, the process killed) leaves no claim behind to block
    the client's retry, and an order is never committed without the answer
    its retry must replay. What the commit itself sets off (a placement's
    payment approval runs on commit) happens after `work` built its answer:
    `refresh` rebuilds a successful answer then, and the stored one with it.
    """
    if not key:
        return work()  # committed when it returns: its answer is already final
    key = key.strip()
    if not key or len(key) > 255:
        error = ApplicationError(_("Invalid Idempotency-Key header."),
                                 field_errors={"Idempotency-Key": [
                                     _("Use 1 to 255 characters.")]})
        error.status = 422
        raise error
    token: ApiToken = request.auth  # type: ignore[attr-defined]  # set by django-ninja's auth
    fingerprint = request_fingerprint(request)
    deadline = time.monotonic() + IDEMPOTENCY_WAIT_SECONDS
    while True:
        with transaction.atomic():
            record_id = _claim(token, key, fingerprint, request.path)
            if record_id is not None:
                status, body = _run_claimed(record_id, work)
        if record_id is not None:
            if refresh and 200 <= status < 300:
                body = refresh(body)
                _store_answer(record_id, status, body)
            return status, body
        record = IdempotencyRecord.objects.filter(token=token, key=key).first()
        if record is None:
            continue  # the holder gave up its claim a moment ago: try again
        if record.request_hash != fingerprint:
            raise _key_mismatch()
        if record.response_status is not None:
            return _replay(record)
        if record.created_at < timezone.now() - IDEMPOTENCY_STALE_AFTER:
            IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()
            continue
        if time.monotonic() > deadline:
            error = ApplicationError(
                _("A request with this Idempotency-Key is still being processed."),
                code="idempotency_in_progress")
            error.status = 409
            raise error
        time.sleep(0.05)


def _run_claimed(record_id: int, work: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    """Inside the claim's transaction; an exception rolls the claim back too."""
    status, body = work()
    if 200 <= status < 300:
        _store_answer(record_id, status, body)
    else:
        IdempotencyRecord.objects.filter(pk=record_id).delete()
    return status, body


def _store_answer(record_id: int, status: int, body: dict) -> None:
    IdempotencyRecord.objects.filter(pk=record_id).update(
        response_status=status, response_body=json.loads(json.dumps(body, default=str)))


api = NinjaAPI(
    title="OMS API",
    version="1.0.0",
    description=(
        "Order capture and catalogue reads for storefronts and other systems. "
        "Authenticate with `Authorization: Bearer <token>` (one token per integration, "
        "`manage.py create_api_token NAME`). Send `Idempotency-Key` on POST to retry safely."
    ),
    auth=BearerToken(),
    urls_namespace="api-v1",
    docs_url="/docs",
)


def error_body(detail: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {"detail": detail, "errors": errors or {}}


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, error_body(_("Invalid request."),
                                                   field_errors(exc.errors)), status=422)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, error_body(exc.message, exc.field_errors),
                               status=exc.status)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, error_body(_("Missing, unknown or revoked API token.")), status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


def _database_unavailable(request: HttpRequest, exc: object) -> HttpResponse:
    response = api.create_response(
        request, error_body(_("The service is temporarily unavailable. Retry the request in "
                              "a few seconds, with the same Idempotency-Key.")), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


for _unavailable in DATABASE_UNAVAILABLE:  # ninja looks handlers up by exact class and its bases
    api.add_exception_handler(_unavailable, _database_unavailable)


def build_urls(*routers: tuple[str, Any]) -> tuple[list, str, str]:
    """Attach the apps' routers (called once, by `oms/urls.py`) and return the
    URL include. Every API view is marked as guarded by the bearer token
    instead of a back-office permission, for the URL walker test."""
    for prefix, router in routers:
        api.add_router(prefix, router)
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        view: Any = pattern.callback  # a function: it takes attributes
        view.required_permissions = ()
        view.is_public = True  # no session login: the bearer token guards it
        view.auth = "api-bearer-token"
    return patterns, app_name, namespace
