"""Every back-office URL requires login and a declared permission.

The walk covers every URL pattern of the project, including the ones other
apps add later: a view without `required_permissions` (set by
`oms.lib.auth.permission_required` or `public`) fails, and each view is
requested anonymously and as every role: anonymous users are sent to the log-in
page, a role without the permission gets 403, a role with it never does.
`admin/`, `i18n/` and `api/` have their own authentication.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, converters, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from oms.lib.roles import ROLE_PERMISSIONS

SKIPPED_PREFIXES = ("admin/", "i18n/", "api/", settings.STATIC_URL.lstrip("/"),
                    settings.MEDIA_URL.lstrip("/"))
MISSING_PK = 999999
_PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str  # "orders/<int:pk>/cancel/"; a regex for re_path() patterns
    name: str  # "orders:cancel", "" when unnamed
    callback: Callable
    is_regex: bool
    converters: dict = field(default_factory=dict)

    @property
    def app_label(self) -> str | None:
        label = self.name.split(":")[0] if ":" in self.name else self.route.split("/")[0]
        return label if apps.is_installed(label) or label in apps.app_configs else None

    def __str__(self) -> str:
        return f"/{self.route} ({self.name or self.callback.__qualname__})"


def _walk(patterns, prefix: str = "", namespace: str = "", is_regex: bool = False,
          convs: dict | None = None) -> Iterator[Route]:
    for entry in patterns:
        pattern = entry.pattern
        regex = is_regex or isinstance(pattern, RegexPattern)
        text = (pattern._route if isinstance(pattern, RoutePattern)
                else str(pattern._regex).lstrip("^").rstrip("$").replace("\\Z", ""))
        merged = {**(convs or {}), **getattr(pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            ns = ":".join(filter(None, [namespace, entry.namespace]))
            yield from _walk(entry.url_patterns, prefix + text, ns, regex, merged)
        elif isinstance(entry, URLPattern):
            name = ":".join(filter(None, [namespace, entry.name])) if entry.name else ""
            yield Route(prefix + text, name, entry.callback, regex, merged)


def project_routes() -> list[Route]:
    return [route for route in _walk(get_resolver().url_patterns)
            if not route.route.startswith(SKIPPED_PREFIXES)]


ROUTES = project_routes()
GUARDED = [r for r in ROUTES if not getattr(r.callback, "is_public", False)
           and getattr(r.callback, "required_permissions", None)]
PUBLIC = [r for r in ROUTES if getattr(r.callback, "is_public", False)]


def _guess_model(route: Route, kwarg: str):
    """The model an int kwarg most likely points at, for a realistic sample pk:
    `order_id` is an Order wherever it appears; `pk` is the app's model named
    in the URL name (customers:address_edit -> Address), else its first model."""
    wanted = kwarg.removesuffix("_id").removesuffix("_pk").replace("_", "")
    own = list(apps.get_app_config(route.app_label).get_models()) if route.app_label else []
    for model in own + list(apps.get_models()):
        if model._meta.model_name == wanted:
            return model
    url_words = route.name.replace("_", "").lower()
    named = [m for m in own if m._meta.model_name in url_words]
    if named:
        return max(named, key=lambda m: len(m._meta.model_name))
    return own[0] if own else None


def _existing_pk(model) -> int | None:
    found = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    if found is not None:
        return found
    # A factory from tests/factories/<app>.py makes the page render for real:
    # `<Model>Factory`, or `make_<model>()` for objects only a service may create
    # (those run their own atomic block, which must not sit inside a savepoint).
    try:
        module = importlib.import_module(f"tests.factories.{model._meta.app_label}")
        factory = getattr(module, f"{model.__name__}Factory", None)
        if factory is not None:
            with transaction.atomic():
                return factory().pk
        maker = getattr(module, f"make_{model._meta.model_name}", None)
        return maker().pk if maker is not None else None
    except Exception:  # no factory, or one that needs arguments: a 404 will do
        return None


def _sample(route: Route, kwarg: str, converter) -> str:
    if isinstance(converter, converters.IntConverter):
        model = _guess_model(route, kwarg)
        pk = _existing_pk(model) if model is not None else None
        return str(pk if pk is not None else MISSING_PK)
    if isinstance(converter, converters.UUIDConverter):
        return str(uuid.uuid4())
    return "x"


def build_url(route: Route) -> str:
    if route.is_regex:
        assert "(" not in route.route, (
            f"{route}: use path() so the permission walk can build a sample URL")
        return "/" + route.route.replace("\\", "")

    def replace(match: re.Match) -> str:
        name = match.group("name")
        return _sample(route, name, route.converters.get(name))

    return "/" + _PLACEHOLDER.sub(replace, route.route)


def _request(client, method: str, url: str, who: str):
    try:
        return getattr(client, method)(url)
    except Exception as exc:
        raise AssertionError(f"{method.upper()} {url} as {who} raised {exc!r}") from exc


def test_the_walk_sees_the_project_urls():
    names = {route.name for route in ROUTES}
    assert {"dashboard", "login", "logout", "healthz"} <= names
    assert not any(route.route.startswith("admin/") for route in ROUTES)


def test_every_view_declares_its_permissions():
    undeclared = [str(route) for route in ROUTES
                  if getattr(route.callback, "required_permissions", None) is None]
    assert undeclared == [], (
        "views without @permission_required(...) or @public: " + ", ".join(undeclared))


@pytest.mark.django_db
@pytest.mark.parametrize("route", GUARDED, ids=str)
def test_view_requires_login_and_exactly_its_permissions(route, client, make_user):
    url = build_url(route)
    required = route.callback.required_permissions
    method = "get"
    anonymous = _request(client, method, url, "anonymous")
    if anonymous.status_code == 405:  # @require_POST outside the login check
        method = "post"
        anonymous = _request(client, method, url, "anonymous")
    assert anonymous.status_code == 302, f"{url} anonymous: {anonymous.status_code}"
    assert anonymous["Location"].startswith(resolve_url(settings.LOGIN_URL))

    for role in ROLE_PERMISSIONS:
        user = make_user(role)
        client.force_login(user)
        response = _request(client, method, url, role)
        if user.has_perms(required):
            # 404 (sample pk), 405, 409, form errors: all fine; refusing or crashing is not.
            assert response.status_code != 403, f"{url}: {role} has {required} but got 403"
            assert response.status_code < 500, f"{url} as {role}: {response.status_code}"
        else:
            assert response.status_code == 403, (
                f"{url}: {role} lacks {required} but got {response.status_code}")
        client.logout()


@pytest.mark.django_db
@pytest.mark.parametrize("route", PUBLIC, ids=str)
def test_public_views_answer_anonymous_users(route, client):
    url = build_url(route)
    response = _request(client, "get", url, "anonymous")
    if response.status_code == 405:
        response = _request(client, "post", url, "anonymous")
    # A sample token may well be refused (400, 404); a crash is a bug.
    assert response.status_code < 500, f"{url}: {response.status_code}"
