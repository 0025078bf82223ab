"""Back-office access: every view says which permission it needs.

`permission_required` wraps Django's decorators (login first, then 403) and
records the permission on the view so a test can walk every URL pattern and
fail on a view that declares none.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def permission_required(*perms: str) -> Callable:
    """Require login and every one of `perms` (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded = login_required(wrapped)
        guarded.required_permissions = perms
        return guarded

    return decorator


def public(view: Callable) -> Callable:
    """Mark a view as deliberately open (login page, signed customer links)."""
    view.required_permissions = ()
    view.is_public = True
    return view
