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


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.js"
# WCAG 2.1 A and AA: labels, names, contrast, landmarks, keyboard reachability (focusable, tabindex).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def check_accessibility(page: Page, *, exclude: tuple[str, ...] = ()) -> None:
    """Run axe-core (from npm, package-lock.json) on the page as it is now; fail listing each violation.

    ``exclude`` takes CSS selectors left out of the check, for third-party widgets we do not control (the
    Leaflet map's tiles and controls are checked by their own project)."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `npm ci` (make test does)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    context = {"exclude": [[s] for s in exclude]} if exclude else {"include": [["html"]]}
    result = page.evaluate(
        "([context, tags]) => axe.run(context, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        [context, AXE_TAGS],
    )
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in result["violations"]
    ]
    assert not problems, f"accessibility violations on {page.url}:\n" + "\n".join(problems)


def tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the focus (proves it is keyboard-reachable)."""
    target = page.locator(selector).first
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with Tab within {limit} presses")
