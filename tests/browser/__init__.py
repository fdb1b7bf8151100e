"""Browser tests: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against live_server.

Helpers shared by the test modules live here; fixtures live in conftest.py.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.world import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def login(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form (typing, then clicking the submit button)."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_password")).to_have_count(0)  # left the login page


def logout(page: Page) -> None:
    """Log out with the top bar's POST form button."""
    page.locator("form[action$='/accounts/logout/'] button").click()
    page.wait_for_url("**/accounts/login/")


def screenshot(page: Page, name: str) -> None:
    """A full-page PNG under docs/screenshots/, embedded by the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / name), full_page=True, animations="disabled"
    )  # no half-faded popups
