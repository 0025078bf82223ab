"""System checks of what the product needs from the machine it runs on."""

from __future__ import annotations

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
