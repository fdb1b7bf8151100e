from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator

import pytest
from django.db import transaction
from django.test import Client
from django.utils import translation

from civicgrid.accounts import permissions
from civicgrid.grids.lookup import reset_grid_index
from tests.world import World, build_world


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Actions called directly by tests answer in English so assertions can name the message; requests
    through the test client still get the user's language from LocaleMiddleware (Chinese by default)."""
    with translation.override("en"):
        yield


def restore_seed_data() -> None:
    """Put back the rows data migrations create (the default time limits and escalation rules). A
    transactional test (browser, concurrency) empties every table when it ends; without this the tests after
    it would see the defaults or not depending on the order the tests ran in (and on which xdist worker)."""
    from django.apps import apps

    from civicgrid.cases import limits

    importlib.import_module("civicgrid.cases.migrations.0002_default_limits").seed(apps, None)
    limits.invalidate()


@pytest.fixture(autouse=True)
def _seed_rows(request: pytest.FixtureRequest) -> None:
    """Every test that uses the database starts with the data migrations' rows (see restore_seed_data)."""
    names = request.fixturenames
    if "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names or request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("db")
    else:
        return
    restore_seed_data()


@pytest.fixture
def world(db: None) -> World:
    """The small two-district world (tests/world.py), built fresh for one test."""
    reset_grid_index()
    return build_world()


@pytest.fixture(scope="module")
def shared_world(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[World]:
    """The same world built once per module, for read-only tests (the permission matrix). It lives in an
    outer transaction that is rolled back after the module; each test's own transaction nests inside."""
    with django_db_blocker.unblock(), transaction.atomic():  # type: ignore[attr-defined]
        restore_seed_data()
        reset_grid_index()
        world = build_world()
        yield world
        transaction.set_rollback(True)
    reset_grid_index()


def _client_factory(world: World) -> Callable[[str], Client]:
    def make(username: str) -> Client:
        client = Client()
        user = world.u(username)
        permissions.forget_scope(user)
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture
def client_for(world: World) -> Callable[[str], Client]:
    """client_for("tx_leader") → a test client logged in as that persona."""
    return _client_factory(world)


@pytest.fixture
def shared_client_for(shared_world: World, db: None) -> Callable[[str], Client]:
    return _client_factory(shared_world)
