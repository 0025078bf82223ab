"""Every page, for every role, on demo data: no template syntax in the output,
and no link, htmx target or form action that the same reader cannot follow.

The pages are the GET URL patterns of the permission walk
(tests/oms/test_permissions.py), filled from the demo data (`seed_demo` plus
a report run): detail pages once per state of their object. A link is followed
as the page's reader: a GET target is requested (403, 404, 405, a 5xx or a
redirect to the log-in page is a broken link; each view is requested once per
role), a POST target is resolved and checked against the permissions its view
declares (posting would change the data under the walk).
"""

from __future__ import annotations

import io
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve

from tests.conftest import ROLES
from tests.factories.reporting import make_reportrun
from tests.oms.test_permissions import _PLACEHOLDER, ROUTES, Route, _guess_model, build_url

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE_SYNTAX = ("{%", "%}", "{{", "}}", "{#", "#}")
BROKEN = {403, 404, 405}
NOT_FOLLOWED = (settings.STATIC_URL, "/" + settings.MEDIA_URL.lstrip("/"))


class _Targets(HTMLParser):
    """(method, url) of every link, htmx request and form in a page."""

    def __init__(self):
        super().__init__()
        self.targets: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.targets.append(("get", attrs["href"]))
        if tag == "form" and attrs.get("action"):
            self.targets.append((attrs.get("method", "get").lower(), attrs["action"]))
        for verb in ("get", "post", "put", "patch", "delete"):
            if attrs.get(f"hx-{verb}"):
                self.targets.append((verb, attrs[f"hx-{verb}"]))


def _targets(html: str, page: str) -> list[tuple[str, str]]:
    parser = _Targets()
    parser.feed(html)
    found = []
    for method, target in parser.targets:
        url = urljoin(page, target)
        parts = urlsplit(url)
        if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
            continue  # mailto:, an external site
        if target.startswith("#") or parts.path.startswith(NOT_FOLLOWED):
            continue
        found.append((method, parts.path + (f"?{parts.query}" if parts.query else "")))
    return found


def _samples(route: Route) -> list[str]:
    """The route's URL for one object per state of its model (or the first object)."""
    first = build_url(route)
    model = _guess_model(route, "pk") if list(route.converters) == ["pk"] else None
    if model is None or "status" not in {f.name for f in model._meta.fields}:
        return [first]
    pks = (model._default_manager.order_by("status", "pk").distinct("status")
           .values_list("pk", flat=True))
    return list(dict.fromkeys([first] + [_PLACEHOLDER.sub(str(pk), "/" + route.route)
                                         for pk in pks]))


def _pages() -> list[str]:
    pages: list[str] = []
    for route in ROUTES:
        if route.name in ("login", "logout"):
            continue
        pages.extend(url for url in _samples(route) if url not in pages)
    return pages


class _Reader:
    """One role walking the pages. `not_pages` is shared by every reader: URLs
    that answered a reader with the permission 405 or a file (PDF, CSV) are
    not requested again, the permission check of their view is enough."""

    def __init__(self, client, user, not_pages: set[str]):
        self.client, self.user, self.not_pages = client, user, not_pages
        self.answers: dict[str, tuple[int, str]] = {}  # url -> status, HTML or ""
        self.followed_views: set[str] = set()
        self.requests = 0

    def get(self, url: str) -> tuple[int, str]:
        if url not in self.answers:
            self.requests += 1
            response = self.client.get(url)
            status = response.status_code
            html = response.content.decode() if "text/html" in response.get(
                "Content-Type", "") and not response.streaming else ""
            if status in (301, 302) and response["Location"].startswith(
                    resolve_url(settings.LOGIN_URL)):
                status = 403
            if status == 405 or (status == 200 and not html):
                self.not_pages.add(url)
            self.answers[url] = (status, html)
        return self.answers[url]

    def refusal(self, url: str) -> str | None:
        """Why the view at `url` refuses this reader, from its declared permissions."""
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            return "404, no such URL"
        if match.namespace == "admin":
            return None if self.user.is_staff else "the admin site, for staff only"
        required = getattr(match.func, "required_permissions", ())  # i18n: open
        if not self.user.has_perms(required):
            return f"403, needs {' and '.join(required)}"
        return None

    def broken(self, method: str, url: str) -> str | None:
        """Why the link is broken for this reader, or None. A GET target is
        requested once per view; a POST target would change the data."""
        refused = self.refusal(url)
        if refused or method != "get" or url in self.not_pages:
            return refused
        view_name = resolve(urlsplit(url).path).view_name
        if view_name in self.followed_views and url not in self.answers:
            return None
        self.followed_views.add(view_name)
        status = self.get(url)[0]
        return str(status) if status in BROKEN or status >= 500 else None


def test_every_page_renders_without_template_syntax_and_links_only_where_its_reader_may_go(
        client, make_user):
    call_command("seed_demo", "--allow-without-debug", stdout=io.StringIO())
    make_reportrun()
    pages = _pages()

    leaked: dict[str, set[str]] = defaultdict(set)
    broken: dict[str, set[str]] = defaultdict(set)
    rendered: dict[str, int] = {}
    not_pages: set[str] = set()
    requests = 0
    for index, role in enumerate(ROLES):
        user = make_user(role, username=f"page-reader-{index}")
        client.force_login(user)
        reader = _Reader(client, user, not_pages)
        rendered[role] = 0
        for page in pages:
            if page in not_pages or reader.refusal(page):
                continue
            status, html = reader.get(page)
            if status != 200 or not html:
                continue
            rendered[role] += 1
            for marker in TEMPLATE_SYNTAX:
                if marker in html:
                    leaked[f"{page}: {marker}"].add(role)
            for method, target in _targets(html, page):
                why = reader.broken(method, target)
                if why:
                    broken[f"{role}: {method.upper()} {target} ({why})"].add(page)
        requests += reader.requests
        client.logout()

    assert not leaked, "template syntax in the output:\n" + "\n".join(
        f"{page} as {', '.join(sorted(roles))}" for page, roles in sorted(leaked.items()))
    assert not broken, "links their reader cannot follow:\n" + "\n".join(
        f"{link} on {', '.join(sorted(on)[:3])}" for link, on in sorted(broken.items()))
    # The walk saw the data: every role read pages, detail pages included.
    assert min(rendered.values()) >= 3 and sum(rendered.values()) >= 100, rendered
    # Each view once per role and detail state: the walk stays bounded as pages are added.
    assert requests < 900, requests
