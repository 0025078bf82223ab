"""Each role logs in through the real form in Chromium and sees exactly its menu.

Screenshots of every role's dashboard go to the Playwright output folder
(`--output`, default test-results/, emptied at the start of each run).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from oms.lib.navigation import items_for
from oms.lib.roles import ROLE_PERMISSIONS
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def screenshot(pytestconfig, page: Page):
    folder = Path(pytestconfig.getoption("--output")).absolute()

    def take(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page: Page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_each_role_sees_exactly_its_navigation(page: Page, live_server, make_user, screenshot,
                                               role):
    user = make_user(role)
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, user.username)

    menu = page.get_by_role("navigation", name="Main navigation").get_by_role("link")
    shown = [(link.inner_text().strip(), link.get_attribute("href")) for link in menu.all()]
    expected = [(str(item["label"]), item["url"]) for item in items_for(user)]
    assert shown == expected
    assert shown, "every role reaches at least the dashboard"
    expect(page.get_by_text(f"{role}", exact=True).first).to_be_visible()

    path = screenshot(f"dashboard-{role.lower().replace(' ', '-')}")
    assert path.stat().st_size > 0


def test_the_shell_is_keyboard_usable_and_fits_a_tablet(page: Page, live_server, make_user,
                                                       screenshot):
    user = make_user("Manager")
    page.set_viewport_size({"width": 768, "height": 1024})
    log_in(page, live_server, user.username)

    # The first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a tablet"
    screenshot("dashboard-manager-tablet")


def test_switching_the_language_in_the_browser(page: Page, live_server, make_user, screenshot):
    user = make_user("Sales")
    log_in(page, live_server, user.username)
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()
    screenshot("dashboard-sales-fr")
