"""System checks of what the product needs from the machine it runs on."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.core import checks


@checks.register(checks.Tags.compatibility)
def check_pdf_libraries(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """WeasyPrint without libharfbuzz-subset embeds fonts through fontTools:
    invoices, pick lists and reports render about five times slower (measured
    in bench scenario 5: 1.2-1.8 instead of ~10 one-page invoices/s)."""
    from weasyprint.text import ffi

    if ffi.harfbuzz_subset is None:
        return [checks.Warning(
            "libharfbuzz-subset is not installed: PDFs render about five times slower.",
            hint="Install it with the system's package manager (Debian: apt-get install "
                 "libharfbuzz-subset0), as `make run`, `make test` and the Dockerfile do.",
            id="oms.W001")]
    return []


@checks.register(checks.Tags.security)
def check_production_defaults(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """With DEBUG off, refuse the development defaults that are unsafe for real
    customers: the sandbox gateway approves every valid-looking card, and a
    localhost SITE_URL ends up in customers' e-mails and payment links."""
    from django.conf import settings

    if settings.DEBUG:
        return []
    errors: list[checks.CheckMessage] = []
    if getattr(settings, "BILLING_CARD_PROVIDER", "sandbox") == "sandbox":
        errors.append(checks.Error(
            "The sandbox payment gateway is selected with DEBUG off.",
            hint="Set BILLING_CARD_PROVIDER to the production gateway.", id="oms.E001"))
    host = urlsplit(settings.SITE_URL).hostname or ""
    try:
        address = ipaddress.ip_address(host)
        local = address.is_loopback or address.is_unspecified
    except ValueError:
        local = host in {"", "localhost"} or host.endswith(".localhost")
    if local:
        errors.append(checks.Error(
            f"SITE_URL {settings.SITE_URL!r} is not a public address with DEBUG off.",
            hint="Set SITE_URL to the address customers reach the site at.", id="oms.E002"))
    return errors
