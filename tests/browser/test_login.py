"""Logging in and out through the real form, and the lock-out after repeated failures (django-axes)."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from civicgrid.accounts.models import Role
from tests.browser import login, logout, screenshot
from tests.world import PASSWORD

pytestmark = pytest.mark.browser


def submit_login(page: Page, username: str, password: str) -> None:
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()


def test_it_rejects_a_wrong_password_and_keeps_the_username(page: Page) -> None:
    page.goto("/")
    page.wait_for_url(re.compile(r"/accounts/login/\?next=/$"))  # the workbench needs a login
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    screenshot(page, "login.png")

    submit_login(page, "tx_leader", "not-the-password")

    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#id_username")).to_have_value("tx_leader")
    expect(page.locator("#id_password")).to_have_value("")
    assert "/accounts/login/" in page.url


def test_it_logs_in_to_the_workbench_and_out_again(page: Page) -> None:
    login(page, "tx_leader")

    assert page.url.endswith("/")
    roles = page.locator("section[aria-labelledby=roles-h] tbody tr")
    expect(roles).to_have_count(1)
    with translation.override("zh-hans"):
        leader = str(Role.LEADER.label)
    expect(roles.first).to_contain_text(leader)
    expect(roles.first).to_contain_text("天心区")
    expect(page.locator(".whoami")).to_have_text("tx_leader")

    logout(page)

    expect(page.locator("#id_username")).to_be_visible()
    page.goto("/")  # the session is gone
    page.wait_for_url("**/accounts/login/?next=/")


def test_it_locks_a_username_after_five_failures(page: Page) -> None:
    page.goto("/accounts/login/")
    for _ in range(4):
        submit_login(page, "tx_dispatcher", "guess-again")
        expect(page.locator("#login-error")).to_be_visible()

    with page.expect_response(
        lambda r: r.url.endswith("/accounts/login/") and r.request.method == "POST"
    ) as fifth:
        submit_login(page, "tx_dispatcher", "guess-again")
    assert fifth.value.status == 429
    expect(page.locator("#id_password")).to_have_count(0)  # the lock-out page, not the form
    expect(page.locator("main [role=alert]")).to_be_visible()

    # The right password no longer helps while the lock lasts.
    page.goto("/accounts/login/")
    with page.expect_response(
        lambda r: r.url.endswith("/accounts/login/") and r.request.method == "POST"
    ) as sixth:
        submit_login(page, "tx_dispatcher", PASSWORD)
    assert sixth.value.status == 429
    page.goto("/")
    page.wait_for_url("**/accounts/login/?next=/")

    # The lock is per username and address: a colleague at the same desk can still log in.
    login(page, "tx_leader")
    assert page.url.endswith("/")
