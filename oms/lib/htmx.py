"""htmx through named partials of the page template: a view renders its whole
page, and an htmx request gets only the `{% partialdef %}` block it swaps."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import SwapMethod, reswap, retarget


def render_partial(request: HttpRequest, template: str, context: dict[str, Any] | None = None,
                   *, partial: str, target: str | None = None,
                   status: int = 200) -> HttpResponse:
    """Render `template`, or `template#partial` for an htmx request (only one
    aimed at the element id `target`, when given)."""
    htmx = getattr(request, "htmx", None)
    if htmx and (target is None or htmx.target == target):
        template = f"{template}#{partial}"
    return render(request, template, context, status=status)


def swap_error(response: HttpResponse, target: str,
               method: SwapMethod = "outerHTML") -> HttpResponse:
    """htmx does not swap a 4xx unless told where: point it at `target`."""
    return reswap(retarget(response, target), method)


def flash_error(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """An error for an htmx request, shown in the page's flash box (base.html)."""
    response = render(request, "_partials/error.html", {"error": message}, status=status)
    return swap_error(response, "#flash", "innerHTML")
