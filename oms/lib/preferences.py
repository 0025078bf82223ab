"""A back-office user's language, saved with the user rather than the browser.

Choosing a language saves it (`save_language`); signing in copies it into the
session, and `UserLanguageMiddleware` activates it on every request, so the
choice follows the user to another browser and costs no query per request.
Without a saved choice the cookie and the browser's Accept-Language decide,
as Django's LocaleMiddleware does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeGuard

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from oms.lib.errors import DATABASE_UNAVAILABLE
from oms.models import UserPreference

SESSION_KEY = "oms_language"


def is_offered(language: object) -> TypeGuard[str]:
    return isinstance(language, str) and language in dict(settings.LANGUAGES)


def save_language(*, user: AbstractBaseUser, language: str, request: HttpRequest | None = None
                  ) -> None:
    """Remember `language` for `user` (and for the current session)."""
    if not is_offered(language):
        raise ValueError(f"{language!r} is not one of settings.LANGUAGES")
    with transaction.atomic(durable=True):
        UserPreference.objects.update_or_create(user_id=user.pk, defaults={"language": language})
    if request is not None:
        request.session[SESSION_KEY] = language


def restore_language(sender: object, *, request: HttpRequest, user: AbstractBaseUser,
                     **kwargs: object) -> None:
    """`user_logged_in` receiver: the saved language becomes the session's."""
    language = (UserPreference.objects.filter(user_id=user.pk)
                .values_list("language", flat=True).first())
    if is_offered(language):
        request.session[SESSION_KEY] = language


class UserLanguageMiddleware:
    """Activates the signed-in user's saved language (after LocaleMiddleware,
    which has already chosen from the cookie or the browser)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        try:
            language = session.get(SESSION_KEY) if session is not None else None
        except DATABASE_UNAVAILABLE:
            # The session could not be read: the view meets the same error and
            # answers 503 (oms.lib.errors.DatabaseUnavailableMiddleware).
            language = None
        if is_offered(language):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
