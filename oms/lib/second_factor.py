"""A TOTP second factor for the roles that move money or hold every permission.

Users of `settings.OTP_REQUIRED_ROLES` (Admin and Accounting) whose session
is not verified by django-otp are sent to confirm a one-time code before any
back-office page or the Django admin: to the setup page the first time (an
authenticator app scans a QR code), to the verify page after. Public views
(log-in, log-out, signed customer links, the health check, the bearer-token
API) and the second-factor pages themselves stay reachable.
"""

from __future__ import annotations

from base64 import b32encode
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from oms.lib.errors import DATABASE_UNAVAILABLE, database_unavailable_page
from oms.lib.roles import ADMIN

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

TOKEN_DIGITS = 6


def second_factor_page(view: Callable) -> Callable:
    """Mark a view as one of the pages where the second factor is given: it
    stays reachable to a signed-in user who has not given it yet."""
    view.second_factor_page = True  # type: ignore[attr-defined]  # a function attribute
    return view


def requires_second_factor(user: User | AnonymousUser) -> bool:
    """Whether `user` must confirm a one-time code: a member of a required
    role, or a superuser when Admin is one."""
    required = settings.OTP_REQUIRED_ROLES
    if not required or not user.is_authenticated:
        return False
    if user.is_superuser and ADMIN in required:
        return True  # every permission, with or without the Admin group
    return user.groups.filter(name__in=required).exists()


def confirmed_device(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def pending_device(*, user: AbstractBaseUser) -> TOTPDevice:
    """The user's device not confirmed yet, created on first use: reloading the
    setup page shows the same secret instead of a new one each time."""
    # Two first visits at once may each create one; both pick the oldest
    # after that, and the spare is never confirmed.
    device = (TOTPDevice.objects.devices_for_user(user, confirmed=False)
              .order_by("pk").first())
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator",
                                           confirmed=False, digits=TOKEN_DIGITS)
    return device


def confirm_device(*, request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    """Check `token` against `device`; when right, confirm the device and
    mark the session verified. django-otp throttles wrong codes per device."""
    with transaction.atomic(durable=True):
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not device.verify_token(token):
            return False
        if not device.confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    otp_login(request, device)
    return True


def qr_code_svg(device: TOTPDevice) -> SafeString:
    """The device's otpauth:// URL as an inline SVG QR code (no image request,
    nothing leaves the server)."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, title=_("QR code for your authenticator app"), dark="#000", light="#fff")
    # segno's own markup: the payload is drawn, not written; the title is escaped.
    return mark_safe(svg)  # noqa: S308


def base32_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


class SecondFactorMiddleware:
    """Send users of the required roles to the second-factor pages until their
    session is verified (after django_otp's OTPMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        if getattr(view_func, "is_public", False) or getattr(view_func, "second_factor_page",
                                                               False):
            return None
        user = request.user
        try:
            if not requires_second_factor(user) or user.is_verified():  # type: ignore[union-attr]
                return None
            return _to_second_factor(request)
        except DATABASE_UNAVAILABLE:
            # Raised before the view, where DatabaseUnavailableMiddleware would
            # not see it: the same 503 answer.
            return database_unavailable_page(request)


def _to_second_factor(request: HttpRequest) -> HttpResponse:
    htmx = getattr(request, "htmx", None)
    back_to = (htmx.current_url_abs_path if htmx else None) or request.get_full_path()
    page = "otp_verify" if confirmed_device(request.user) else "otp_setup"  # type: ignore[arg-type]
    url = f"{reverse(page)}?{urlencode({'next': back_to})}"
    if htmx:
        # A fragment must not be swapped for the code page: move the whole browser.
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
