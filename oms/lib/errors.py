"""Errors a service raises on purpose, and how views turn them into HTTP.

A service raises `ApplicationError` (or a subclass) with a translatable,
user-facing message; nothing has been written when it propagates because the
service's transaction rolls back. Views map it to a message and a 4xx.

A database that cannot be reached (restarting, failing over, out of
connections) is no bug of the request: it answers 503 with Retry-After, from
the view (`DatabaseUnavailableMiddleware`, the API's handler in oms.api) or
from any other layer (`server_error`, the project's handler500).
"""

from __future__ import annotations

import logging
import sys

from django.contrib import messages
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from oms.lib.htmx import flash_error, swap_error

logger = logging.getLogger(__name__)

# What a lost or refused database connection raises. Not DatabaseError as a
# whole: an IntegrityError or a DataError is a bug or a business refusal.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# Long enough for a restart or a failover to finish, short enough that a
# client retrying after it does not wait for nothing.
RETRY_AFTER_SECONDS = 5


class ApplicationError(Exception):
    """A business rule refused the request. `status` is the HTTP status."""

    status = 400

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None,
                 code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}
        self.code = code

    def text(self) -> str:
        """The message followed by its field errors, for a page that shows
        one line (a flash message or an error banner)."""
        details = [m for messages_ in self.field_errors.values() for m in messages_]
        return " ".join([self.message, *details]) if details else self.message


class Forbidden(ApplicationError):
    """The actor's roles do not allow this change (separation of duties)."""

    status = 403


class NotAllowed(ApplicationError):
    """The transition or action is illegal in the object's current state."""

    status = 409


class Conflict(ApplicationError):
    """Another request changed the object first (lost race, stale form)."""

    status = 409


class ApplicationErrorMiddleware:
    """Last line of defence: an ApplicationError escaping a view becomes a
    message and a 4xx response instead of a 500. Views usually catch it
    themselves to re-render a form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, ApplicationError):
            return None
        if getattr(request, "htmx", False):
            return flash_error(request, exception.message, status=exception.status)
        messages.error(request, exception.message)
        return render(request, "error.html", {"error": exception.message},
                      status=exception.status)


def database_unavailable_page(request: HttpRequest) -> HttpResponse:
    """The 503 page, or for htmx the message in the page's flash box.
    Rendered without a request context: the session, the user and the
    navigation all live in the database that is away."""
    if getattr(request, "htmx", False):
        message = _("The service is temporarily unavailable. Try again in a few seconds.")
        response = swap_error(HttpResponse(loader.render_to_string(
            "_partials/error.html", {"error": message}), status=503), "#flash", "innerHTML")
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """A view that lost its database answers 503 with Retry-After instead of
    500. Django closes the broken connection when the request ends (and checks
    a persistent one before the next request, CONN_HEALTH_CHECKS), so the
    process recovers by itself once the database is back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        logger.warning("database unavailable during %s %s: %s", request.method,
                       request.path, exception)
        return database_unavailable_page(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a lost database raised outside a view (a middleware saving
    the session) is a 503 too; anything else is Django's 500 page."""
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_UNAVAILABLE):
        return database_unavailable_page(request)
    response: HttpResponseServerError = defaults.server_error(request)
    return response
