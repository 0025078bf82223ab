"""Sign out a back-office session left idle for SESSION_IDLE_TIMEOUT_MINUTES.

Sliding: every request counts as activity. The last-seen time is written to
the session at most once a minute, so a busy user does not cost a session
write per request (a minute of precision on a thirty-minute timeout).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from oms.lib.errors import DATABASE_UNAVAILABLE, database_unavailable_page

LAST_SEEN_SESSION_KEY = "oms_last_seen"
WRITE_EVERY_SECONDS = 60


def start_idle_clock(sender: object, request: HttpRequest, **kwargs: object) -> None:
    """On log-in (user_logged_in): the session is being written anyway, so the
    first requests after it need not write again."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN_SESSION_KEY] = int(time.time())


class IdleSessionMiddleware:
    """After AuthenticationMiddleware: the view then sees an anonymous user and
    sends it to the log-in page its own way (HX-Redirect for htmx)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            self._sign_out_when_idle(request)
        except DATABASE_UNAVAILABLE:
            # The session and the user live in the database: answer as a view
            # that lost it would (DatabaseUnavailableMiddleware), not with a 500.
            return database_unavailable_page(request)
        return self.get_response(request)

    @staticmethod
    def _sign_out_when_idle(request: HttpRequest) -> None:
        if request.user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_SESSION_KEY)
            if (isinstance(last_seen, (int, float))
                    and now - last_seen > settings.SESSION_IDLE_TIMEOUT_MINUTES * 60):
                logout(request)
                messages.info(request, _("You were signed out after %(minutes)d minutes "
                                         "without activity.")
                              % {"minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES})
            elif not isinstance(last_seen, (int, float)) or now - last_seen >= WRITE_EVERY_SECONDS:
                request.session[LAST_SEEN_SESSION_KEY] = int(now)
