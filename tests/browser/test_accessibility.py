"""axe-core (WCAG 2.1 A/AA) on the foundation's pages; each role screen's own test checks its pages too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser import check_accessibility, login

pytestmark = pytest.mark.browser


def test_the_login_page_passes_axe(page: Page) -> None:
    page.goto("/accounts/login/")
    check_accessibility(page)


@pytest.mark.parametrize("path", ["/", "/staff/", "/accounts/password/", "/map/?j=430103"])
def test_the_foundation_pages_pass_axe(page: Page, path: str) -> None:
    login(page, "tx_admin")
    page.goto(path)
    # Leaflet's own controls are checked by Leaflet; our map container and everything else are checked.
    check_accessibility(page, exclude=(".leaflet-control-container", ".leaflet-pane"))
