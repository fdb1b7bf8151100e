"""Fixtures for the browser tests: one Chromium per session, a fresh context and page per test, and the test
world on a transactional database so the live server thread sees it."""

from __future__ import annotations

import os

# Playwright's sync API runs an asyncio loop in the main thread; Django's ORM refuses to run beside one
# unless told it is safe (it is here: the loop never runs ORM code concurrently).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from collections.abc import Iterator

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Error,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from civicgrid.grids.lookup import reset_grid_index
from tests.conftest import restore_seed_data
from tests.world import World, build_world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}  # a common phone, in CSS pixels


@pytest.fixture
def bworld(transactional_db: None, settings: Settings) -> World:
    """The test world, committed so that the live server thread can read it.

    Passwords are hashed with MD5 here: the default PBKDF2 costs about half a second per persona, and the
    hasher is not what these tests are about (login still goes through the real form and backends).
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    reset_grid_index()
    restore_seed_data()
    return build_world()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _new_context(browser: Browser, live_server: LiveServer, *, phone: bool = False) -> BrowserContext:
    # zh-CN is what a browser in China sends; LocaleMiddleware maps it to zh-hans, the default language.
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
    )
    context.set_default_timeout(5_000)
    return context


@pytest.fixture
def context(browser: Browser, live_server: LiveServer, bworld: World) -> Iterator[BrowserContext]:
    context = _new_context(browser, live_server)
    yield context
    context.close()


@pytest.fixture
def phone_context(browser: Browser, live_server: LiveServer, bworld: World) -> Iterator[BrowserContext]:
    context = _new_context(browser, live_server, phone=True)
    yield context
    context.close()


def _watched_page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any uncaught JavaScript error."""
    page = context.new_page()
    errors: list[Error] = []

    def record(error: Error) -> None:
        errors.append(error)

    page.on("pageerror", record)
    yield page
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    yield from _watched_page(context)


@pytest.fixture
def phone_page(phone_context: BrowserContext) -> Iterator[Page]:
    yield from _watched_page(phone_context)
