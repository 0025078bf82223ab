"""PDF documents from HTML templates (WeasyPrint), fetching nothing outside.

Templates reference their CSS and images with `{% static %}`; the fetcher
serves those from the app's own static files and refuses every other URL
(`file://`, outside hosts, data the template should not reach), so a
template or a value injected into one cannot read the server's disk or call
out over the network.
"""

from __future__ import annotations

import mimetypes
import threading
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# A host name that cannot resolve: relative URLs in templates resolve against it.
BASE_URL = "https://oms-static.invalid/"


class StaticOnlyFetcher(URLFetcher):
    """Serves `/static/...` from the staticfiles finders; refuses anything else."""

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        if (
            f"{parts.scheme}://{parts.netloc}/" != BASE_URL
            or not parts.path.startswith(static_prefix)
        ):
            raise ValueError(f"PDF rendering may not fetch {url!r}")
        relative = unquote(parts.path[len(static_prefix):])
        if ".." in relative.split("/"):
            raise ValueError(f"PDF rendering may not fetch {url!r}")
        path = finders.find(relative)
        if not path:
            raise ValueError(f"no static file {relative!r}")
        mime, _ = mimetypes.guess_type(path)
        with open(path, "rb") as handle:
            body = handle.read()
        return URLFetcherResponse(url, body, {"Content-Type": mime or "application/octet-stream"})


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render a Django template to PDF bytes with the restricted fetcher."""
    html = render_to_string(template_name, context)
    return html_to_pdf(html)


_local = threading.local()


def _font_config() -> FontConfiguration:
    # A new FontConfiguration loads fontconfig's configuration and a fresh
    # Pango font map (cold font and shaping caches): about a fifth of a
    # one-page invoice's rendering. So one per thread (Pango's font map is
    # not thread-safe), kept for the process. Our templates use installed
    # fonts only: an @font-face rule would add its font again on every render.
    if not hasattr(_local, "font_config"):
        _local.font_config = FontConfiguration()
    return _local.font_config


def html_to_pdf(html: str) -> bytes:
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf(
        font_config=_font_config())
