"""The JSON API (`/api/v1/`): one NinjaAPI, bearer tokens, idempotency, errors.

The apps contribute their endpoints as ninja Routers in `<app>/api_v1.py`;
`oms/urls.py` mounts them here, so this module imports no domain app.

Errors always have the shape `{"detail": str, "errors": {field: [messages]}}`:
schema validation answers 422, business refusals (`ApplicationError`) their
own status, a missing, unknown, revoked or expired token 401, a token
without the endpoint's scope 403, a token over its rate limit 429 (with
`Retry-After`), a database that cannot be reached 503 (with `Retry-After`),
a body that is not JSON 400. Every endpoint declares these answers
(`AUTH_ERRORS`, `BODY_ERRORS`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from oms.lib.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, ApplicationError
from oms.lib.validation import field_errors
from oms.models import ApiScope, ApiToken, IdempotencyRecord

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "oms_"  # noqa: S105 (a public marker, not a secret)
# last_used_at is informational: write it at most once a minute per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a request waits for the final answer of a twin with the same key
# (its wait for the twin's commit is bounded by the connection's lock_timeout).
IDEMPOTENCY_WAIT_SECONDS = 30.0
# The work commits with its answer; the final answer (after the after-commit
# work) follows within this, unless the request died in between.
IDEMPOTENCY_FINISH_WITHIN = timedelta(seconds=IDEMPOTENCY_WAIT_SECONDS)
# An unanswered claim left by an earlier release (which claimed in its own
# statement) after this long belongs to a request that died: taken over.
IDEMPOTENCY_STALE_AFTER = timedelta(minutes=5)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired

T = TypeVar("T")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def check_token_scopes(scopes: Iterable[str], carrier_code: str) -> list[str]:
    """The scopes, sorted and known; `carrier_events` only with a carrier."""
    scopes = sorted(set(scopes))
    unknown = [scope for scope in scopes if scope not in ApiScope.values]
    if unknown:
        raise ApplicationError(
            _("Unknown scope %(scopes)s; use %(allowed)s.")
            % {"scopes": ", ".join(unknown), "allowed": ", ".join(ApiScope.values)},
            field_errors={"scopes": [_("Unknown scope.")]})
    if (ApiScope.CARRIER_EVENTS in scopes) != bool(carrier_code):
        message = _("The carrier events scope and a carrier go together.")
        raise ApplicationError(message, field_errors={"carrier_code": [message]})
    return scopes


def create_api_token(*, name: str, scopes: Iterable[str], carrier_code: str = "",
                     expires_at: datetime | None = None,
                     all_customers: bool = False) -> tuple[ApiToken, str]:
    """Create a token for an integration; returns the row and the secret,
    which is not stored and cannot be shown again.

    `scopes`: ApiScope values; `carrier_events` needs `carrier_code` (the one
    carrier whose shipments it may update). `all_customers`: a trusted
    integration that orders on customers' accounts (see `ApiToken`).
    """
    name = name.strip()
    if not name:
        raise ApplicationError(_("A token needs a name."), field_errors={"name": [_("Required.")]})
    carrier_code = carrier_code.strip()
    checked = check_token_scopes(scopes, carrier_code)
    if expires_at is not None and expires_at <= timezone.now():
        message = _("Choose a time in the future.")
        raise ApplicationError(message, field_errors={"expires_at": [message]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic(durable=True):
            token = ApiToken.objects.create(name=name, token_hash=hash_token(raw),
                                            prefix=raw[:12], scopes=checked,
                                            carrier_code=carrier_code, expires_at=expires_at,
                                            all_customers=all_customers)
    except IntegrityError:
        raise ApplicationError(_("A token named %(name)s already exists.") % {"name": name},
                               field_errors={"name": [_("Already in use.")]})
    return token, raw


def revoke_api_tokens(*, token_ids: list[int]) -> int:
    """Revoke tokens; already revoked ones keep their first revocation time."""
    with transaction.atomic(durable=True):
        return ApiToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).update(
            revoked_at=timezone.now())


class RateLimited(Exception):
    """The token sent more requests this minute than it may (429)."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


RATE_WINDOW_SECONDS = 60


def rate_limit_per_minute() -> int:
    return getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600)


def count_request(token: ApiToken) -> None:
    """Count a request of `token` in the current minute (a fixed window in the
    shared cache, Redis in production, so every worker counts together);
    raise `RateLimited` once the minute's allowance is used up.

    The key holds a piece of the token's hash, not its id: ids repeat
    between test databases, hashes do not.
    """
    retry_after = count_in_window(f"api-rate:{token.token_hash[:24]}", rate_limit_per_minute())
    if retry_after:
        raise RateLimited(retry_after)


def count_in_window(key: str, limit: int) -> int:
    """Count one request under `key` in the current minute (a fixed window in
    the shared cache, Redis in production, so every worker counts together);
    the seconds until the next window once `limit` is used up, else 0.
    A limit of 0 or less counts nothing."""
    if limit <= 0:  # 0: no limit
        return 0
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    cache = caches["shared"]
    key = f"{key}:{window}"
    # add() is SET NX: the first request of the window creates the counter;
    # incr() is atomic, so concurrent workers never lose a count.
    try:
        cache.add(key, 0, timeout=RATE_WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between the two calls: count from here
            cache.add(key, 1, timeout=RATE_WINDOW_SECONDS * 2)
            count = 1
    except Exception:  # noqa: BLE001  Redis unreachable: serve rather than refuse every order
        logger.warning("Rate limit not counted: the shared cache is unreachable",
                       exc_info=True)
        return 0
    if count > limit:
        return max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now))
    return 0


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; `request.auth` becomes the ApiToken.

    Unknown, revoked and expired tokens answer 401 alike; a valid token
    without `scope` (when given) 403. Every authenticated request counts
    against the token's rate limit, refused ones included.
    """

    def __init__(self, scope: ApiScope | None = None):
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if not token:
            return None
        now = timezone.now()
        api_token = ApiToken.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            token_hash=hash_token(token), revoked_at__isnull=True).first()
        if api_token is None:
            return None
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
            api_token.last_used_at = now
        count_request(api_token)
        if self.scope is not None and not api_token.has_scope(self.scope):
            error = ApplicationError(
                _("This API token does not have the %(scope)s scope.") % {"scope": self.scope},
                code="missing_scope")
            error.status = 403
            raise error
        return api_token


def require_scope(scope: ApiScope) -> BearerToken:
    """The `auth=` of a router or endpoint that needs `scope`."""
    return BearerToken(scope=scope)


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
    """INSERT ... ON CONFLICT DO NOTHING inside the work's transaction: of
    concurrent requests with one key exactly one gets the row id back; the
    others wait on the unique index until it commits (None: the key is taken)
    or rolls back (then theirs goes in), at most the connection's
    `lock_timeout`."""
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


def _in_progress() -> ApplicationError:
    error = ApplicationError(
        _("A request with this Idempotency-Key is still being processed."),
        code="idempotency_in_progress")
    error.status = 409
    return error


def _storable(body: dict) -> dict:
    return json.loads(json.dumps(body, default=str))


def run_idempotent(request: HttpRequest, key: str | None, work: Callable[[], T],
                   answer: Callable[[T], tuple[int, dict]]) -> HttpResponse | tuple[int, dict]:
    """Run `work` once per (token, Idempotency-Key); `answer(result)` is the
    response, (status, body).

    `work` runs inside one transaction (durable, opened here; the work's own
    `atomic()` blocks nest in it) together with the claim of the key and its
    answer: the key is recorded exactly when the work is, so a process that
    dies at any point either left nothing (rolled back: a retry does the work)
    or left the work with its answer (a retry replays it). After commit the
    answer is taken again, now with what ran after commit (the payment
    decision of an order), and stored as final.

    A repeat with the same body replays the stored answer; one with another
    body is refused with 422. Concurrent twins wait for the first to finish.
    Refusals (4xx) are not stored: the key stays free, so the client may fix
    the cause and retry with the same key.
    """
    if not key:
        return answer(work())
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
    status: int
    body: dict
    while True:
        with transaction.atomic(durable=True):
            try:
                record_id = _claim(token, key, fingerprint, request.path)
            except OperationalError as exc:
                # A twin holds the key longer than any lock wait may last.
                if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                    raise _in_progress() from exc
                raise
            if record_id is not None:
                result = work()
                status, body = answer(result)
                if 200 <= status < 300:
                    IdempotencyRecord.objects.filter(pk=record_id).update(
                        response_status=status, response_body=_storable(body))
                else:  # the work stands, its refusal is not replayed
                    IdempotencyRecord.objects.filter(pk=record_id).delete()
        if record_id is not None:
            break
        record = IdempotencyRecord.objects.filter(token=token, key=key).first()
        if record is None:
            continue  # the holder gave up the key a moment ago: try again
        if record.request_hash != fingerprint:
            raise _key_mismatch()
        if record.response_status is not None:
            # Committed with its work. Wait for the final answer while its
            # request is finishing; one that died after its commit never
            # completes, and the answer stored with the work stands.
            if (record.completed_at is not None or time.monotonic() > deadline
                    or record.created_at < timezone.now() - IDEMPOTENCY_FINISH_WITHIN):
                return _replay(record)
        elif record.created_at < timezone.now() - IDEMPOTENCY_STALE_AFTER:
            # Claimed on its own by an earlier release and never answered: that
            # request died and its work rolled back. Take the key over.
            IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()
            continue
        elif time.monotonic() > deadline:
            raise _in_progress()
        time.sleep(0.05)

    if not 200 <= status < 300:
        return status, body
    status, body = answer(result)
    IdempotencyRecord.objects.filter(pk=record_id).update(
        response_status=status, response_body=_storable(body), completed_at=timezone.now())
    return status, body


API_DESCRIPTION = """\
Order capture, catalogue reads and carrier status updates for storefronts and
other systems.

**Authentication.** `Authorization: Bearer <token>`, one token per integration
(`manage.py create_api_token NAME --scope ...`). A missing, unknown, revoked
or expired token answers 401.

**Scopes.** Each endpoint needs one scope of the token; without it the answer
is 403.

- `orders`: place orders (`POST /orders`) and read back the orders this token
  placed (`GET /orders/{number}`). An order for a customer already on file
  uses the customer's payment terms, credit limit and standing only when the
  token may order on that customer's account (a token for every customer, or
  one the customer allows); otherwise it is placed as prepaid and held for
  review by Sales (`hold_reason` `account_review`).
- `catalogue:read`: products and stock (`/products`, `/stock`).
- `carrier_events`: status updates of one carrier's shipments
  (`POST /shipments/{tracking_number}/events`). A shipment of another
  carrier answers 404, like an unknown tracking number.

**Rate limit.** Each token may send a fixed number of requests per minute;
beyond it the answer is 429 with a `Retry-After` header (seconds).

**Errors** have the shape `{"detail": "...", "errors": {"field": ["..."]}}`.
Send `Idempotency-Key` on POST to retry safely.
"""

api = NinjaAPI(
    title="OMS API",
    version="1.0.0",
    description=API_DESCRIPTION,
    auth=BearerToken(),
    urls_namespace="api-v1",
    docs_url="/docs",
)


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]]


# The answers of authentication, scope, rate limit and a database out of
# reach, which every endpoint can give: its `response=` map includes them.
AUTH_ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 403: ErrorOut, 429: ErrorOut,
                                        503: ErrorOut}
# And of an endpoint that reads a JSON body: not JSON (400), not its schema (422).
BODY_ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 422: ErrorOut}


_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def check_query(request: HttpRequest, known: Iterable[str]) -> None:
    """Refuse (422) a query string that is not percent-encoded UTF-8 (which
    Django would read with replacement characters) and parameters the endpoint
    does not know, so a misspelt filter is an error instead of ignored."""
    raw = request.META.get("QUERY_STRING", "")
    try:
        if _BAD_PERCENT.search(raw):
            raise ValueError(raw)
        unquote_to_bytes(raw.replace("+", " ")).decode()
    except (UnicodeDecodeError, ValueError):
        error = ApplicationError(_("The query string is not percent-encoded UTF-8."))
        error.status = 422
        raise error from None
    unknown = sorted(set(request.GET) - set(known))
    if unknown:
        error = ApplicationError(_("Unknown query parameter."), field_errors={
            name: [_("Unknown parameter.")] for name in unknown})
        error.status = 422
        raise error


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


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja's own refusals; a body that is not JSON is the one it raises (400).
    detail = _("The request body is not valid JSON.") if exc.status_code == 400 else str(exc)
    return api.create_response(request, error_body(detail), status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body(_("Not found.")), status=404)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, error_body(_("Missing, unknown, revoked or expired API token.")), status=401)
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


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(
        request, error_body(_("Too many requests with this API token; retry in %(seconds)d "
                              "seconds.") % {"seconds": exc.retry_after}), status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


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
