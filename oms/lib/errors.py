"""Errors a service raises on purpose, and how views turn them into HTTP.

A service raises `ApplicationError` (or a subclass) with a translatable,
user-facing message; nothing has been written when it propagates because the
service's transaction rolls back. Views map it to a message and a 4xx.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from oms.lib.htmx import flash_error


class ApplicationError(Exception):
    """A business rule refused the request. `status` is the HTTP status."""

    status = 400

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None,
                 code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}
        self.code = code


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
