"""Helpers for browser tests that drive htmx screens."""
from __future__ import annotations

from playwright.sync_api import Page, expect


def settled(page: Page) -> None:
    """Wait until htmx has no request in flight and has wired up what it last swapped in.

    htmx binds the hx-* attributes of swapped-in elements only when it settles
    (htmx.config.defaultSettleDelay after the swap), and marks them .htmx-added until
    then; an event fired on such an element before that is lost.
    """
    expect(page.locator(".htmx-request, .htmx-added, .htmx-settling")).to_have_count(0)


def change(page: Page, selector: str, value: str) -> None:
    """Type a value into a field once htmx has settled and fire its change event."""
    settled(page)
    field = page.locator(selector)
    field.fill(value)
    field.dispatch_event("change")
