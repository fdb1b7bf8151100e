"""The workbench (/) as a grid worker and as someone without any role."""

from __future__ import annotations

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from civicgrid.accounts.models import Role
from tests.browser import login, screenshot

pytestmark = pytest.mark.browser


def test_a_grid_worker_sees_their_grid_cell(page: Page) -> None:
    login(page, "bjt_grid")

    with translation.override("zh-hans"):
        grid_worker = str(Role.GRID_WORKER.label)
    expect(page.locator("section[aria-labelledby=roles-h] tbody tr")).to_contain_text(grid_worker)
    cells = page.locator("section[aria-labelledby=cells-h] li")
    expect(cells).to_have_count(1)
    expect(cells).to_contain_text("八角亭社区第1网格")
    expect(cells).to_contain_text("430103002001001")
    link = cells.locator("a")
    expect(link).to_have_attribute("href", "/map/?j=430103002001#cell-430103002001001")
    screenshot(page, "workbench.png")

    link.click()
    page.wait_for_url("**/map/?j=430103002001#cell-430103002001001")
    expect(page.locator("#cell-430103002001001")).to_be_visible()


def test_someone_without_a_role_is_told_so(page: Page) -> None:
    login(page, "nobody")

    expect(page.locator("section[aria-labelledby=roles-h] .notice")).to_be_visible()
    expect(page.locator("section[aria-labelledby=cells-h]")).to_have_count(0)
    expect(page.locator("section[aria-labelledby=links-h] li")).to_have_count(0)
