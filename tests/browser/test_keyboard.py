"""Keyboard use: the skip link, and logging in without a mouse."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import login
from tests.world import PASSWORD

pytestmark = pytest.mark.browser


def test_the_skip_link_is_the_first_tab_stop(page: Page) -> None:
    login(page, "tx_leader")
    page.goto("/staff/")

    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # it shows itself when focused

    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/#main")

    # The next Tab continues inside the content, not in the top bar.
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_the_skip_link_moves_focus_to_main(page: Page) -> None:
    page.goto("/accounts/login/")  # any page has the skip link; this one needs no login

    page.locator("a.skip-link").focus()
    page.keyboard.press("Enter")

    page.wait_for_url("**/accounts/login/#main")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_login_form_works_by_keyboard_alone(page: Page) -> None:
    page.goto("/accounts/login/")

    expect(page.locator("#id_username")).to_be_focused()  # autofocus
    page.keyboard.type("tx_leader")
    page.keyboard.press("Tab")
    expect(page.locator("#id_password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    page.wait_for_url("**/")
    expect(page.locator(".whoami")).to_have_text("tx_leader")
