"""Changing one's password."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import login, logout
from tests.world import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "lantern-orchard-1987"


def fill_password_form(page: Page, old: str, new1: str, new2: str) -> None:
    page.locator("#id_old_password").fill(old)
    page.locator("#id_new_password1").fill(new1)
    page.locator("#id_new_password2").fill(new2)
    page.locator("main form button[type=submit]").click()


def test_it_changes_the_password(page: Page) -> None:
    login(page, "bjt_grid")
    page.locator("header a[href$='/accounts/password/']").click()
    page.wait_for_url("**/accounts/password/")

    fill_password_form(page, PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
    field = page.locator(".field", has=page.locator("#id_new_password2"))
    expect(field).to_have_class("field has-error")
    expect(field.locator(".field-error")).to_be_visible()
    expect(page.locator("#id_old_password")).to_have_value("")  # passwords are never sent back

    fill_password_form(page, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    page.wait_for_url("**/accounts/password/done/")
    expect(page.locator("main a[href='/']")).to_be_visible()  # still logged in

    logout(page)
    login(page, "bjt_grid", NEW_PASSWORD)
    assert page.url.endswith("/")
    expect(page.locator(".whoami")).to_have_text("bjt_grid")
