"""Switching the interface language."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import login

pytestmark = pytest.mark.browser


def test_it_switches_to_english_and_back(page: Page) -> None:
    login(page, "tx_leader")
    page.goto("/map/?j=430103")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")

    with page.expect_navigation():
        page.locator("#language-select").select_option("en")

    page.wait_for_url("**/map/?j=430103")  # back where we were
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header button.linklike")).to_have_text("Log out")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # remembered

    with page.expect_navigation():
        page.locator("#language-select").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("header button.linklike")).not_to_have_text("Log out")
