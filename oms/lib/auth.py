"""Back-office access: every view says which permission it needs.

`permission_required` sends anonymous users to the log-in page, answers 403
to users without every permission, and records the permissions on the view
so a test can walk every URL pattern and fail on a view that declares none.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from oms.lib.htmx import flash_error

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails


class AuthenticatedRequest(HttpRequest):
    """The request a `permission_required` view receives: a logged-in user, and
    django-htmx's details (its middleware runs on every request)."""

    user: User
    htmx: HtmxDetails


def _to_login(request: HttpRequest) -> HttpResponse:
    htmx = getattr(request, "htmx", None)
    if htmx:
        # An expired session must not swap the log-in page into a fragment:
        # send the whole browser there, back to the page it was on.
        back_to = htmx.current_url_abs_path or request.get_full_path()
        return HttpResponseClientRedirect(
            f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back_to})}")
    return redirect_to_login(request.get_full_path())


def _refused_fragment(request: HttpRequest) -> HttpResponse:
    # A refused htmx action shows in the flash box (see base.html) instead of
    # swapping the whole 403 page into a fragment.
    return flash_error(request, _(
        "You may not do this: your roles do not include the permission it needs."), status=403)


def permission_required(*perms: str) -> Callable:
    """Require login and every one of `perms` (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return _to_login(request)
            if not request.user.has_perms(perms):
                if getattr(request, "htmx", None):
                    return _refused_fragment(request)
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded.required_permissions = perms  # type: ignore[attr-defined]  # a function attribute
        return guarded

    return decorator


def public(view: Callable) -> Callable:
    """Mark a view as deliberately open (login page, signed customer links)."""
    view.required_permissions = ()  # type: ignore[attr-defined]  # function attributes
    view.is_public = True  # type: ignore[attr-defined]
    return view


def client_ip(request: HttpRequest) -> str | None:
    """The address a failed log-in counts against (django-axes).

    Behind the TLS proxy (BEHIND_TLS_PROXY) REMOTE_ADDR is the proxy for
    everyone, so one client could lock every account out. The proxy appends
    the address it saw to X-Forwarded-For: the last entry is trusted, anything
    before it is what the client sent and is not."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.BEHIND_TLS_PROXY and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")
